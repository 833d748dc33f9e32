// How a rule's selector, notSelector and namespaceSelector become the selectors of IP sets,
// following Calico's conversion (libcalico-go updateprocessors, ruleAPIV2ToBackend):
//
// - namespaceSelector selects namespaces by their labels. Endpoints carry their namespace's labels
//   prefixed `pcns.` (the `kns.<ns>` profile's labelsToApply), so each label in it gets that prefix;
//   `all()` there means "any namespace", i.e. every endpoint that has a namespace:
//   `has(projectcalico.org/namespace)`.
// - Without namespaceSelector, a namespaced policy's rule stays in its own namespace:
//   `projectcalico.org/namespace == "<ns>"`. A global policy's rule is not scoped.
// - If the rule names any selector (selector, notSelector or namespaceSelector), the namespace part
//   is ANDed in front of the selector (alone when there is no selector). So a Kubernetes peer with
//   both podSelector and namespaceSelector is an AND; separate peers are separate rules (an OR).
// - notSelector is not scoped: it is matched negated, after the positive (scoped) selector.
// - A rule without any selector is not scoped at all (e.g. only ports or nets: from anywhere).
// - `<scope> && all()` is written as `<scope>`, so equivalent rules share one set.

import { parseSelector, type Selector, selectorToString } from '@margay/api';
import { TextMemo } from './memo';

export const NAMESPACE_LABEL = 'projectcalico.org/namespace';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';

export interface EntitySelectors {
  readonly selector?: string | undefined;
  readonly notSelector?: string | undefined;
  readonly namespaceSelector?: string | undefined;
}

export interface FoldedSelectors {
  /** Canonical text of the positive selector (namespace scoping folded in), if any. */
  readonly selector?: string;
  /** Canonical text of the negated selector, if any. */
  readonly notSelector?: string;
}

/** Folded selectors by their inputs (as JSON, so that no two inputs share a key). */
const foldedSelectors = new TextMemo<FoldedSelectors>();

export function foldSelectors(entity: EntitySelectors, namespace: string | undefined): FoldedSelectors {
  const { selector, notSelector, namespaceSelector } = entity;
  const key = JSON.stringify([namespace, selector, notSelector, namespaceSelector]);
  return (
    foldedSelectors.find(key) ??
    foldedSelectors.remember(key, fold(selector, notSelector, namespaceSelector, namespace))
  );
}

function fold(
  selector: string | undefined,
  notSelector: string | undefined,
  namespaceSelector: string | undefined,
  namespace: string | undefined,
): FoldedSelectors {
  let scope: Selector | undefined;
  if (namespaceSelector !== undefined) scope = namespaceLabelsSelector(parseSelector(namespaceSelector));
  else if (namespace !== undefined) scope = { type: 'equals', label: NAMESPACE_LABEL, value: namespace };

  let positive: Selector | undefined = selector === undefined ? undefined : parseSelector(selector);
  const namesASelector =
    selector !== undefined || notSelector !== undefined || namespaceSelector !== undefined;
  if (scope !== undefined && namesASelector) {
    // `scope && all()` is `scope`: written so, the set is shared with rules that have no selector.
    positive =
      positive === undefined || positive.type === 'all'
        ? scope
        : { type: 'and', left: scope, right: positive };
  }
  const folded: { selector?: string; notSelector?: string } = {};
  if (positive !== undefined) folded.selector = selectorToString(positive);
  if (notSelector !== undefined) folded.notSelector = selectorToString(parseSelector(notSelector));
  return folded;
}

/** Rewrites a selector over namespace labels into one over the endpoint labels that carry them. */
export function namespaceLabelsSelector(selector: Selector): Selector {
  switch (selector.type) {
    case 'all':
      return { type: 'has', label: NAMESPACE_LABEL };
    case 'not':
      return { type: 'not', operand: namespaceLabelsSelector(selector.operand) };
    case 'and':
    case 'or':
      return {
        type: selector.type,
        left: namespaceLabelsSelector(selector.left),
        right: namespaceLabelsSelector(selector.right),
      };
    default:
      return { ...selector, label: NAMESPACE_LABEL_PREFIX + selector.label };
  }
}
