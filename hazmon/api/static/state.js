// The page's shared state: what the session loaded and the officer's filters. One object,
// created by the shell and handed to every part in ctx.state; a view's own choices (which
// sensor, which period) stay in the view's module.

export class PageState {
  constructor() {
    this.filters = { region: '', tier: '' }; // kept across a re-login, like the controls
    this.clear();
  }

  /** Forget the session's data (logout). */
  clear() {
    this.principal = null; // {role, scope, actions} once signed in (GET /me)
    this.enterprises = new Map(); // by code
    this.hazardSources = [];
    this.alarms = new Map(); // open alarms by id
    this.simulated = new Set(); // enterprises seen with simulated data
    this.regionNames = new Map(); // region prefix (32, 3209, 320921, cell) -> name (GET /regions)
  }

  /** Whether the signed-in role may take `action` (alarm.ack, ...): the page offers only
   * what the server would accept. */
  may(action) { return !!this.principal && this.principal.actions.has(action); }

  /** A region's name where the regions file gives one ("响水县"), else its code. */
  regionName(code) { return this.regionNames.get(code) || code || '—'; }

  entName(code) { return (this.enterprises.get(code) || {}).name || code; }

  isSim(code) { return this.simulated.has(code) || !!(this.enterprises.get(code) || {}).simulated; }

  /** Whether a hazard source or alarm of this region and tier passes the filters. */
  inFilter(region, tier) {
    const f = this.filters;
    return (!f.region || (region || '').startsWith(f.region)) && (!f.tier || String(tier) === f.tier);
  }
}
