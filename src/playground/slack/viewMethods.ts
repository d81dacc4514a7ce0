/**
 * Slack's views.* methods on the stand-in: modals opened with a trigger_id, pushed onto a stack
 * of at most three, updated by ID or external ID (with hash checks), and Home tabs published.
 */
import type { StandInWorkspace } from './StandInWorkspace.ts';
import { fail, refused, VIEW_STACK_MAX, type WebApiMethods } from './standInModel.ts';

export function viewMethods(ws: StandInWorkspace): WebApiMethods {
  return {
    'views.open': (args) => {
      const trigger = ws.exchangeTrigger(args.trigger_id);
      if (refused(trigger)) return trigger;
      const view = ws.checkedView(args.view, 'modal');
      if (refused(view)) return view;
      const opened = ws.openModal(trigger.userId, view);
      return { ok: true, view: ws.viewPayload(opened) };
    },

    'views.push': (args) => {
      const trigger = ws.exchangeTrigger(args.trigger_id);
      if (refused(trigger)) return trigger;
      const view = ws.checkedView(args.view, 'modal');
      if (refused(view)) return view;
      const under = trigger.viewId
        ? ws.view(trigger.viewId)
        : ws
            .views(trigger.userId)
            .filter((v) => !v.closed)
            .at(-1);
      if (!under) return fail('not_found');
      const stackSize = ws.views(trigger.userId).filter((v) => v.rootViewId === under.rootViewId && !v.closed).length;
      if (stackSize >= VIEW_STACK_MAX) return fail('push_limit_reached');
      const pushed = ws.openModal(trigger.userId, view, under);
      return { ok: true, view: ws.viewPayload(pushed) };
    },

    'views.update': (args) => {
      const target =
        typeof args.view_id === 'string'
          ? ws.view(args.view_id)
          : typeof args.external_id === 'string'
            ? ws.views().find((v) => v.externalId === args.external_id)
            : undefined;
      if (!target) return fail('not_found');
      if (typeof args.hash === 'string' && args.hash !== target.hash) return fail('hash_conflict');
      const view = ws.checkedView(args.view, 'modal');
      if (refused(view)) return view;
      ws.replaceView(target, view);
      return { ok: true, view: ws.viewPayload(target) };
    },

    'views.publish': (args) => {
      if (typeof args.user_id !== 'string' || !ws.findUser(args.user_id)) return fail('user_not_found');
      const view = ws.checkedView(args.view, 'home');
      if (refused(view)) return view;
      const current = ws.homeView(args.user_id);
      if (current && typeof args.hash === 'string' && args.hash !== current.hash) return fail('hash_conflict');
      return { ok: true, view: ws.viewPayload(ws.publishHome(args.user_id, view)) };
    },
  };
}
