/**
 * Why a scheduling attempt failed, in the three classes Karmada's scheduler distinguishes when it
 * writes the Scheduled condition: no cluster passed the filters (FitError → NoClusterFit, and the
 * previous result is cleared), not enough room for the replicas (UnschedulableError →
 * Unschedulable), anything else (SchedulerError).
 */
export type FailureKind = 'NoClusterFit' | 'Unschedulable' | 'SchedulerError';

export class ScheduleFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleFailure';
  }
}

/** Go's fmt.Errorf("prefix: %w", err): the text grows, the class is kept. */
export function wrapFailure(prefix: string, err: unknown): ScheduleFailure {
  if (err instanceof ScheduleFailure) return new ScheduleFailure(err.kind, `${prefix}: ${err.message}`);
  return new ScheduleFailure('SchedulerError', `${prefix}: ${err instanceof Error ? err.message : String(err)}`);
}
