// @margay/confd: margay-confd renders BIRD 2's configuration from etcd with operator-overridable
// templates, checks it with `bird -p`, swaps it in atomically and reloads BIRD.

export { type BirdControl, birdCommands } from './bird';
export { type ApplyOutcome, type ApplyResult, Confd, type ConfdOptions, readSecrets } from './confd';
export {
  defaultTemplateDir,
  INPUTS,
  type Input,
  loadTemplates,
  MAIN_TEMPLATE,
  renderBird,
  type TemplateSet,
} from './render';
export {
  type ConfdStage,
  type ConfdStatus,
  confdStatusKey,
  readConfdStatus,
  writeConfdStatus,
} from './status';
export { parseTemplate, renderTemplate, type Template, TemplateError } from './template';
export {
  type BirdView,
  birdView,
  type ConfdSnapshot,
  type PeerView,
  ViewError,
  type ViewOptions,
} from './view';
