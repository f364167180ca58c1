// The page's views, in tab order. The shell (app.js) makes a tab and a container for each
// entry and shows one view at a time; a new view is one module here plus one line below.
//
// A view is an object:
//   id                  short name: the tab's data-view and the container's id (view-<id>)
//   title               the tab's label
//   mount(el, ctx, arg) the view is shown: build its DOM into el (empty, already visible),
//                       wire its controls, load what it needs. arg comes from
//                       ctx.show(id, arg) (e.g. which sensor); undefined from its tab.
//   update(ctx, change) shared data changed while it is shown: change.kind is 'registry'
//                       (enterprises and hazard sources reloaded), 'filters', or 'alarm'
//                       (change.alarm: one alarm event from the stream).
//   unmount()           the view is left: stop its timers and drop pending work; the shell
//                       empties el afterwards.
// ctx (see app.js) carries the shared state and the shell's services: ctx.state,
// ctx.show(id, arg), ctx.failed(error, what), ctx.toast(text, bad), ctx.changed(change),
// ctx.refreshRegistry().

import duties from './duties.js';
import kpi from './kpi.js';
import overview from './overview.js';
import sensor from './sensor.js';
import warnings from './warnings.js';
import watch from './watch.js';

export const VIEWS = [overview, sensor, kpi, warnings, duties, watch];
