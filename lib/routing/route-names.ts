import { ERR_ROUTE_DUPLICATE_NAME, ERR_ROUTE_MISSING_PARAM, ERR_ROUTE_UNKNOWN_NAME } from '../errors.js'

/** Named WebSocket routes and their reversal into paths (`app.ws.urlFor`). */
export class RouteNames {
  private readonly paths = new Map<string, string>()

  add (name: string, path: string): void {
    if (this.paths.has(name)) throw new ERR_ROUTE_DUPLICATE_NAME(name)
    this.paths.set(name, path)
  }

  /** Fills `:param`, `:param?` and `*` segments of the named path; values are URI-encoded. */
  urlFor (name: string, params: Record<string, string | number>): string {
    const path = this.paths.get(name)
    if (path === undefined) throw new ERR_ROUTE_UNKNOWN_NAME(name)
    return path
      .replace(/:([A-Za-z0-9_]+)(\([^)]*\))?(\?)?/g, (_, param: string, _regex: string | undefined, optional: string | undefined) => {
        const value = Object.prototype.hasOwnProperty.call(params, param) ? params[param] : undefined
        if (value === undefined || value === '') {
          if (optional !== undefined) return ''
          throw new ERR_ROUTE_MISSING_PARAM(name, param)
        }
        return encodeURIComponent(String(value))
      })
      .replace(/\*$/, () => {
        const rest = params['*']
        return rest === undefined ? '' : String(rest).split('/').map(encodeURIComponent).join('/')
      })
      .replace(/\/\/+/g, '/')
  }
}
