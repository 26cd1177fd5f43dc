/** `dag-<dagId>` events → `dags` and `dag_versions`. */
import type { CompiledQuery } from 'kysely';
import type { DagEvent } from '../../events/schemas/index.js';
import { compiler } from '../database.js';
import { assertNever, json } from './support.js';

/** The SQL that applies one DAG event; pure. */
export function projectDagEvent(event: DagEvent): CompiledQuery[] {
  switch (event.type) {
    case 'DagRegistered': {
      const { dagId, registeredAt } = event.data;
      // Registering a deleted DAG again brings it back (the decider continues its versions).
      return [
        compiler
          .insertInto('dags')
          .values({
            id: dagId,
            latest_version: null,
            description: null,
            paused_reason: null,
            deleted_at: null,
            registered_at: registeredAt,
            updated_at: registeredAt,
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              deleted: false,
              deleted_at: null,
              paused: false,
              paused_reason: null,
              registered_at: registeredAt,
              updated_at: registeredAt,
            }),
          )
          .compile(),
      ];
    }
    case 'DagVersionPublished': {
      const { dagId, version, specHash, spec, publishedAt } = event.data;
      return [
        compiler
          .insertInto('dag_versions')
          .values({
            dag_id: dagId,
            version,
            spec_hash: specHash,
            spec: json(spec),
            task_ids: spec.topologicalOrder,
            published_at: publishedAt,
          })
          .onConflict((oc) => oc.columns(['dag_id', 'version']).doNothing())
          .compile(),
        compiler
          .updateTable('dags')
          .set({ latest_version: version, description: spec.description, updated_at: publishedAt })
          .where('id', '=', dagId)
          .compile(),
      ];
    }
    case 'DagPaused': {
      const { dagId, reason, pausedAt } = event.data;
      return [
        compiler
          .updateTable('dags')
          .set({ paused: true, paused_reason: reason ?? null, updated_at: pausedAt })
          .where('id', '=', dagId)
          .compile(),
      ];
    }
    case 'DagResumed': {
      const { dagId, resumedAt } = event.data;
      return [
        compiler
          .updateTable('dags')
          .set({ paused: false, paused_reason: null, updated_at: resumedAt })
          .where('id', '=', dagId)
          .compile(),
      ];
    }
    case 'DagDeleted': {
      const { dagId, deletedAt } = event.data;
      return [
        compiler
          .updateTable('dags')
          .set({ deleted: true, deleted_at: deletedAt, updated_at: deletedAt })
          .where('id', '=', dagId)
          .compile(),
      ];
    }
    default:
      return assertNever(event);
  }
}
