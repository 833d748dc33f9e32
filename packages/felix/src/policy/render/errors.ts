// The one error the renderer throws for input it cannot express: it names the policy or profile,
// the direction, the rule index and the field, so a bad policy is rejected whole, never half-rendered.

export type Direction = 'ingress' | 'egress';

export interface RenderErrorWhere {
  /** `policy` or `profile`. */
  readonly owner: 'policy' | 'profile';
  readonly id: string;
  readonly direction: Direction;
  readonly ruleIndex: number;
  /** Dotted path of the offending field, e.g. `source.serviceAccounts`. */
  readonly field: string;
}

export class PolicyRenderError extends Error {
  readonly where: RenderErrorWhere;

  constructor(where: RenderErrorWhere, problem: string) {
    super(
      `${where.owner} ${where.id} ${where.direction} rule ${where.ruleIndex}: ${where.field}: ${problem}`,
    );
    this.name = 'PolicyRenderError';
    this.where = where;
  }
}
