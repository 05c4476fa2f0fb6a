/**
 * In-process wake-up for job workers: enqueueing a job nudges the workers of this process so the
 * job runs without waiting for the next poll. Only a hint: the jobs table is the truth, workers in
 * other processes find the job by polling, and a nudge that arrives before the enqueuing
 * transaction commits is followed by a few short re-polls (see JobWorker.wake).
 */
type Listener = () => void;

const listeners = new Set<Listener>();

export function onJobsEnqueued(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function notifyJobsEnqueued(): void {
  for (const listener of listeners) listener();
}
