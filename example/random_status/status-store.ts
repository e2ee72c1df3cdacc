import Database from 'better-sqlite3'

/** The status as the app serves it; both fields are null until someone sets one. */
export interface Status {
  text: string | null
  /** When it was last set (ISO 8601). */
  updatedAt: string | null
}

interface Row { text: string, updated_at: string }

/**
 * The one current status, in an SQLite file (better-sqlite3, synchronous: a
 * single-row read or write takes microseconds, less than an await would).
 * The file and its table are created on first open.
 */
export class StatusStore {
  private readonly db: Database.Database
  private readonly select: Database.Statement<[], Row>
  private readonly upsert: Database.Statement<[string, string]>

  constructor (path: string) {
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.exec('CREATE TABLE IF NOT EXISTS status (id INTEGER PRIMARY KEY CHECK (id = 1), text TEXT NOT NULL, updated_at TEXT NOT NULL)')
    this.select = this.db.prepare('SELECT text, updated_at FROM status WHERE id = 1')
    this.upsert = this.db.prepare('INSERT INTO status (id, text, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at')
  }

  /** The current status. */
  get (): Status {
    const row = this.select.get()
    return row === undefined ? { text: null, updatedAt: null } : { text: row.text, updatedAt: row.updated_at }
  }

  /** Replaces the status and returns it as stored. */
  set (text: string): Status {
    const updatedAt = new Date().toISOString()
    this.upsert.run(text, updatedAt)
    return { text, updatedAt }
  }

  close (): void {
    this.db.close()
  }
}
