/**
 * The plan and policy of a row transformer that is read only for its subject tokens (erasure's
 * judges, ad-hoc releases re-reading raw rows): `encrypt` becomes `token`. Subject tokens never
 * depend on the operator, so they come out the same, and no vault key is needed nor created for
 * a value that is only being looked at.
 */
import type { ColumnDecision } from '../types.ts';
import type { OperatorSpec, Policy } from './policy.ts';

const TOKEN: OperatorSpec = { operator: 'token' };

/** `plan` and `policy` with every `encrypt` replaced by the default `token` operator. */
export function subjectTokenPlan(plan: readonly ColumnDecision[], policy: Policy): { plan: ColumnDecision[]; policy: Policy } {
  const entities: Policy['entities'] = Object.fromEntries(
    Object.entries(policy.entities).map(([entity, spec]) => [entity, spec?.operator === 'encrypt' ? TOKEN : spec]),
  );
  return {
    plan: plan.map((d) => (d.operator === 'encrypt' ? { ...d, operator: 'token', options: {} } : d)),
    policy: { ...policy, entities, default: policy.default.operator === 'encrypt' ? TOKEN : policy.default },
  };
}
