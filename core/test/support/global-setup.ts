// Placeholder: replaced by the storage test harness (embedded PostgreSQL per run).
export default function setup(): void {}
