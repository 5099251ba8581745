/** Test people (personas) of each environment. */
import type { Db } from './db.ts';
import type { PersonTable } from './schema.ts';
import { perDatabase, prepared } from './prepared.ts';

export type PersonRow = PersonTable;

export function findPersonByEmail(db: Db, env: string, email: string) {
  return db.selectFrom('person').selectAll().where('env', '=', env).where('email', '=', email.toLowerCase()).executeTakeFirst();
}

/** The people of an environment with this email (one at most: emails are unique per environment), as a list. */
export function findPeopleByEmail(db: Db, env: string, email: string): Promise<PersonRow[]> {
  return db.selectFrom('person').selectAll().where('env', '=', env).where('email', '=', email.toLowerCase()).execute();
}

/** The people of an environment with this NHS number: several accounts may share one (interface facts, test data). */
export function findPeopleByNhsNumber(db: Db, env: string, nhsNumber: string): Promise<PersonRow[]> {
  return db.selectFrom('person').selectAll().where('env', '=', env).where('nhs_number', '=', nhsNumber).orderBy('created_at').execute();
}

// Read on every token and userinfo request (the account's claims), so compiled once.
const personById = perDatabase((db) =>
  prepared(db, (env: string, id: string) => db.selectFrom('person').selectAll().where('env', '=', env).where('id', '=', id), 2),
);

export async function findPerson(db: Db, env: string, id: string): Promise<PersonRow | undefined> {
  return (await personById(db)(env, id)).rows[0];
}

export async function insertPerson(db: Db, p: PersonRow): Promise<void> {
  await db.insertInto('person').values({ ...p, email: p.email.toLowerCase() }).execute();
}

/**
 * Adds people unless they are there already (by id or email): an environment's prepared accounts are seeded by
 * whichever instance starts first, and instances starting at once on a new database both try.
 */
export async function insertPeopleIfAbsent(db: Db, people: PersonRow[]): Promise<void> {
  if (!people.length) return;
  await db
    .insertInto('person')
    .values(people.map((p) => ({ ...p, email: p.email.toLowerCase() })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function countPeople(db: Db, env: string): Promise<number> {
  const r = await db.selectFrom('person').select((eb) => eb.fn.countAll<number>().as('n')).where('env', '=', env).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function updatePerson(db: Db, env: string, id: string, changes: Partial<Omit<PersonRow, 'env' | 'id'>>): Promise<void> {
  await db.updateTable('person').set(changes).where('env', '=', env).where('id', '=', id).execute();
}

/** Removes a person and what only they had: proxy links either way and passkeys, in one transaction. */
export async function deletePerson(db: Db, env: string, id: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('proxy_link').where('env', '=', env)
      .where((eb) => eb.or([eb('proxy_id', '=', id), eb('patient_id', '=', id)])).execute();
    await tx.deleteFrom('passkey').where('env', '=', env).where('person_id', '=', id).execute();
    await tx.deleteFrom('person').where('env', '=', env).where('id', '=', id).execute();
  });
}
