// The renderer felix uses unless told otherwise: policy/render's pure functions.

import {
  ipSetSpecFor,
  renderDispatch,
  renderEndpoint,
  renderHostEndpoint,
  renderHostEndpointDispatch,
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
  renderHostEndpoint: (endpoint) => renderHostEndpoint(endpoint),
  renderHostEndpointDispatch: (endpoints) => renderHostEndpointDispatch(endpoints),
  renderStatic,
  ipSetSpecFor,
};
