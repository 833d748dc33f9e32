// The renderer felix uses unless told otherwise: policy/render's pure functions.

import {
  ipSetSpecFor,
  renderDispatch,
  renderEndpoint,
  renderPolicy,
  renderProfile,
  renderStatic,
} from './render';
import type { PolicyRenderer } from './renderer';

export const DEFAULT_RENDERER: PolicyRenderer = {
  renderPolicy,
  renderProfile,
  renderEndpoint,
  renderDispatch: (endpoints) => renderDispatch(endpoints),
  renderStatic,
  ipSetSpecFor,
};
