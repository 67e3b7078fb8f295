/**
 * The ISM policy that deletes monthly readings indices. Age counts from an
 * index's creation (the first reading of that month to arrive), so a month
 * is kept `retentionDays` after it began being written, up to a month more
 * than the retention for its oldest readings.
 */
export interface RetentionPolicySpec {
  policyId: string;
  indexPattern: string;
  retentionDays: number;
}

export function retentionPolicyDocument(spec: RetentionPolicySpec): Record<string, unknown> {
  return {
    policy: {
      description: `sensord: delete ${spec.indexPattern} indices ${spec.retentionDays} days after creation`,
      default_state: "hot",
      states: [
        {
          name: "hot",
          actions: [],
          transitions: [
            { state_name: "delete", conditions: { min_index_age: `${spec.retentionDays}d` } },
          ],
        },
        { name: "delete", actions: [{ delete: {} }], transitions: [] },
      ],
      // New indices matching the pattern get the policy when they are created.
      ism_template: [{ index_patterns: [spec.indexPattern], priority: 100 }],
    },
  };
}
