/**
 * Object tags shared by the process-upload handler (which sets them) and the CDK bucket
 * lifecycle rules (which act on them). Kept apart so the stack does not import handler code.
 */

/** Set on a raw ingest object once a run finished with it; the lifecycle rule expires tagged objects only. */
export const PROCESSED_TAG = { key: 'privacy-pipeline:status', value: 'processed' } as const;
