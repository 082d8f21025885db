/* A minimal app shell over the installed visitsync package, in C99: what an iOS or Android
 * shell does through its own language's FFI, in one screenful.
 *
 *   shell DATA_DIR ENROLLMENT SCHOOL TEMPLATE ITEM VALUE [SECONDS]
 *
 * Opens DATA_DIR (or enrolls it from ENROLLMENT the first time), starts the replicator with a
 * status line, records a visit of SCHOOL with TEMPLATE and ITEM set to VALUE once the
 * templates have arrived, waits until the replicator is idle with nothing left to send (at
 * most SECONDS, default 30), prints the open conflicts and stops.
 *
 * Build: cc -std=c99 shell.c $(pkg-config --cflags --libs visitsync) -pthread
 *    or: find_package(visitsync) and target_link_libraries(shell visitsync::visitsync). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <visitsync.h>

static const char* state_name[] = {"stopped", "offline", "connecting", "busy", "idle"};

/* The status line, redrawn by the replicator's thread at each change. */
static void on_status(void* ctx, const vs_replicator_status* s) {
  (void)ctx;
  printf("[%s] pushed %llu/%llu, pulled %llu, %llu+%llu bytes", state_name[s->state],
         (unsigned long long)s->progress.pushed, (unsigned long long)s->progress.to_push,
         (unsigned long long)s->progress.pulled, (unsigned long long)s->progress.bytes_sent,
         (unsigned long long)s->progress.bytes_received);
  if (s->state == VS_REPLICATOR_OFFLINE)
    printf("; %s; retry in %.1f s", s->last_error, (double)s->retry_in_ms / 1000);
  printf("\n");
  fflush(stdout);
}

static void on_changes(void* ctx, const char* const* ids, size_t count) {
  size_t i;
  (void)ctx;
  for (i = 0; i < count; ++i) printf("changed by a pull: visit %s\n", ids[i]);
}

/* Prints a failed call's message (*error) and frees it; returns whether the call succeeded. */
static int ok(vs_code code, char** error, const char* what) {
  if (code != VS_OK)
    fprintf(stderr, "shell: %s: %s: %s\n", what, vs_code_name(code), *error ? *error : "");
  vs_free(*error);
  *error = NULL;
  return code == VS_OK;
}

/* Whether the replicator's status JSON holds `text`. */
static int status_has(vs_db* db, const char* text) {
  char* json = NULL;
  char* error = NULL;
  int has = vs_replicator_status_json(db, &json, &error) == VS_OK && strstr(json, text) != NULL;
  vs_free(json);
  vs_free(error);
  return has;
}

static void pause_ms(long ms) {
  struct timespec t;
  t.tv_sec = ms / 1000;
  t.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&t, NULL);
}

int main(int argc, char** argv) {
  vs_db* db = NULL;
  char* error = NULL;
  char* visit = NULL;
  char* json = NULL;
  vs_replicator_options o;
  long waited = 0;
  long limit_ms = argc > 7 ? atol(argv[7]) * 1000 : 30000;
  int done = 0;
  if (argc < 7) {
    fprintf(stderr, "usage: shell DATA_DIR ENROLLMENT SCHOOL TEMPLATE ITEM VALUE [SECONDS]\n");
    return 2;
  }
  if (vs_open(argv[1], NULL, &db, &error) != VS_OK) {
    vs_free(error);
    if (!ok(vs_enroll_file(argv[1], argv[2], NULL, &db, &error), &error, "enroll")) return 1;
  }
  printf("visitsync %s, data folder %s\n", vs_version(), argv[1]);
  vs_replicator_options_init(&o);
  o.debounce_ms = 200;
  o.on_status = on_status;
  if (!ok(vs_observe_changes(db, on_changes, NULL, &error), &error, "observe") ||
      !ok(vs_replicator_start(db, &o, &error), &error, "replicator")) {
    vs_release(db);
    return 1;
  }
  /* The first sync brings the templates and schools; then the visit is recorded offline-first:
   * each write returns at once, and the replicator sends it after the debounce. */
  for (; waited < limit_ms && !done; waited += 50) {
    if (visit == NULL && status_has(db, "\"syncs\":") && !status_has(db, "\"syncs\":0")) {
      if (!ok(vs_visit_start(db, argv[3], argv[4], &visit, &error), &error, "visit start") ||
          !ok(vs_visit_set(db, visit, argv[5], argv[6], &error), &error, "visit set"))
        break;
      printf("recorded visit %s\n", visit);
      pause_ms(400); /* past the debounce: the replicator is busy with it by now */
    }
    done = visit != NULL && status_has(db, "\"state\":\"idle\"") &&
           vs_status_json(db, &json, &error) == VS_OK && strstr(json, "\"unsynced_ops\": 0");
    vs_free(json);
    vs_free(error);
    json = error = NULL;
    if (!done) pause_ms(50);
  }
  if (ok(vs_conflicts_json(db, &json, &error), &error, "conflicts")) printf("conflicts: %s", json);
  vs_free(json);
  ok(vs_replicator_stop(db, &error), &error, "stop");
  ok(vs_close(db, &error), &error, "close");
  vs_release(db);
  vs_free(visit);
  printf(done ? "all sent\n" : "not everything was sent in time\n");
  return done ? 0 : 1;
}
