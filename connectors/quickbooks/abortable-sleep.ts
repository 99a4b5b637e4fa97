/** Moved to connectors/abortable-sleep.ts (shared by connectors); re-exported for existing imports. */
export * from '../abortable-sleep';
