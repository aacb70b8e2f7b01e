/**
 * Dashboards in PostgreSQL, always scoped to one owner (a user id, or null for the install's own
 * dashboards). Every function takes the db first; nothing here knows about HTTP.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, DashboardsTable } from '../storage/schema.js';
import { readLayout, type DashboardLayout } from './layout.js';

export type Owner = string | null;

export interface Dashboard {
  id: string;
  userId: Owner;
  title: string;
  position: number;
  version: number;
  layout: DashboardLayout;
  createdAt: Date;
  updatedAt: Date;
}

function toDashboard(row: Selectable<DashboardsTable>): Dashboard {
  return {
    id: row.id,
    userId: row.user_id,
    title: row.title,
    position: row.position,
    version: row.version,
    layout: readLayout(row.layout),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export function newDashboardId(): string {
  return randomBytes(9).toString('base64url');
}

type Db = Kysely<Database>;

// `user_id = null` is never true in SQL: the install's own dashboards need `is null`.
const ownedBy = (owner: Owner) => (owner === null
  ? sql<boolean>`user_id is null`
  : sql<boolean>`user_id = ${owner}`);

export async function listDashboards(db: Db, owner: Owner): Promise<Dashboard[]> {
  const rows = await db.selectFrom('dashboards').selectAll().where(ownedBy(owner))
    .orderBy('position').orderBy('created_at').orderBy('id').execute();
  return rows.map(toDashboard);
}

export async function getDashboard(db: Db, owner: Owner, id: string): Promise<Dashboard | undefined> {
  const row = await db.selectFrom('dashboards').selectAll().where('id', '=', id).where(ownedBy(owner)).executeTakeFirst();
  return row ? toDashboard(row) : undefined;
}

/**
 * The owner's dashboards; when they have none, first stores the one `make` builds. Concurrent first
 * visits (two tabs) wait on one advisory lock per owner, so exactly one dashboard is generated.
 */
export async function listOrGenerate(
  db: Db, owner: Owner, make: () => { title: string; layout: DashboardLayout },
): Promise<Dashboard[]> {
  const existing = await listDashboards(db, owner);
  if (existing.length > 0) return existing;
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`joulehub.dashboards:${owner ?? ''}`}))`.execute(tx);
    const again = await listDashboards(tx, owner);
    if (again.length > 0) return again;
    const { title, layout } = make();
    await tx.insertInto('dashboards')
      .values({ id: newDashboardId(), user_id: owner, title, position: 0, layout: JSON.stringify(layout) })
      .execute();
    return listDashboards(tx, owner);
  });
}

export async function createDashboard(db: Db, owner: Owner, input: { title: string; layout: DashboardLayout }): Promise<Dashboard> {
  const next = await db.selectFrom('dashboards').select(sql<number>`coalesce(max(position) + 1, 0)::int`.as('p'))
    .where(ownedBy(owner)).executeTakeFirstOrThrow();
  const row = await db.insertInto('dashboards')
    .values({ id: newDashboardId(), user_id: owner, title: input.title, position: next.p, layout: JSON.stringify(input.layout) })
    .returningAll().executeTakeFirstOrThrow();
  return toDashboard(row);
}

export type UpdateResult =
  | { status: 'updated'; dashboard: Dashboard }
  | { status: 'conflict'; dashboard: Dashboard }
  | { status: 'not_found' };

/**
 * Saves a dashboard. With `expectedVersion`, the save happens only if nobody saved since that
 * version (otherwise 'conflict' with the current copy), so one browser never overwrites another's
 * changes unseen.
 */
export async function updateDashboard(
  db: Db, owner: Owner, id: string,
  change: { title?: string; layout?: DashboardLayout; position?: number },
  expectedVersion?: number,
): Promise<UpdateResult> {
  let q = db.updateTable('dashboards')
    .set((eb) => ({
      ...(change.title !== undefined ? { title: change.title } : {}),
      ...(change.layout !== undefined ? { layout: JSON.stringify(change.layout) } : {}),
      ...(change.position !== undefined ? { position: change.position } : {}),
      version: eb('version', '+', 1),
      updated_at: sql<Date>`now()`,
    }))
    .where('id', '=', id).where(ownedBy(owner));
  if (expectedVersion !== undefined) q = q.where('version', '=', expectedVersion);
  const row = await q.returningAll().executeTakeFirst();
  if (row) return { status: 'updated', dashboard: toDashboard(row) };
  const current = await getDashboard(db, owner, id);
  return current ? { status: 'conflict', dashboard: current } : { status: 'not_found' };
}

export async function deleteDashboard(db: Db, owner: Owner, id: string): Promise<boolean> {
  const res = await db.deleteFrom('dashboards').where('id', '=', id).where(ownedBy(owner)).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
