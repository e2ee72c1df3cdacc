import Database from 'better-sqlite3'

/** An author or a book, as the API returns it. */
export interface Author { id: number, name: string }
export interface Book { id: number, title: string, authorId: number | null }

/** The two tables, in one SQLite file, through prepared statements. */
export class Store {
  private readonly db: Database.Database
  private readonly statements

  constructor (file: string) {
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS books (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
        author_id INTEGER REFERENCES authors(id) ON DELETE SET NULL);`)
    this.db.pragma('foreign_keys = ON')
    const db = this.db
    this.statements = {
      authors: db.prepare('SELECT id, name FROM authors ORDER BY id'),
      author: db.prepare('SELECT id, name FROM authors WHERE id = ?'),
      addAuthor: db.prepare('INSERT INTO authors (name) VALUES (?) RETURNING id, name'),
      renameAuthor: db.prepare('UPDATE authors SET name = ? WHERE id = ? RETURNING id, name'),
      removeAuthor: db.prepare('DELETE FROM authors WHERE id = ?'),
      books: db.prepare('SELECT id, title, author_id AS authorId FROM books ORDER BY id'),
      addBook: db.prepare('INSERT INTO books (title, author_id) VALUES (?, ?) RETURNING id, title, author_id AS authorId'),
      updateBook: db.prepare('UPDATE books SET title = ?, author_id = ? WHERE id = ? RETURNING id, title, author_id AS authorId'),
      removeBook: db.prepare('DELETE FROM books WHERE id = ?')
    }
  }

  authors (): Author[] { return this.statements.authors.all() as Author[] }
  author (id: number): Author | undefined { return this.statements.author.get(id) as Author | undefined }
  addAuthor (name: string): Author { return this.statements.addAuthor.get(name) as Author }
  renameAuthor (id: number, name: string): Author | undefined { return this.statements.renameAuthor.get(name, id) as Author | undefined }
  removeAuthor (id: number): boolean { return this.statements.removeAuthor.run(id).changes === 1 }
  books (): Book[] { return this.statements.books.all() as Book[] }
  addBook (title: string, authorId: number | null): Book { return this.statements.addBook.get(title, authorId) as Book }
  updateBook (id: number, title: string, authorId: number | null): Book | undefined { return this.statements.updateBook.get(title, authorId, id) as Book | undefined }
  removeBook (id: number): boolean { return this.statements.removeBook.run(id).changes === 1 }
  close (): void { this.db.close() }
}
