/* The C API from C: every function, used rightly against a real hub and wrongly in every way
 * the header says it refuses. Built as C99 with -pedantic -Werror against the installed package
 * (tests/capi/CMakeLists.txt), run by tests/capi/harness.py, which starts the hub and passes:
 *   capi_test WORK_DIR ENROLLMENT SILENT_ENROLLMENT PROXIED_ENROLLMENT OTHER_ENROLLMENT
 * ENROLLMENT is a device's enrollment file for the running hub; SILENT_ENROLLMENT another one
 * whose hub port answers nothing (a listener that never speaks TLS), for the cancellation;
 * PROXIED_ENROLLMENT one whose hub port is a proxy that cuts the link (capi_replicator.c);
 * OTHER_ENROLLMENT a second device of the same inspector, straight to the hub. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <visitsync.h>

#include "capi_check.h"

int failures = 0;

static char path_buf[4096];
static const char* join(const char* dir, const char* name) {
  return join_in(path_buf, sizeof path_buf, dir, name);
}

/* ---- misuse: NULLs, bad strings, closed handles ------------------------------------------ */

static void misuse_without_a_store(const char* work) {
  vs_db* db = (vs_db*)1;
  char* json = NULL;
  vs_open_options o;
  EXPECT_ERROR(vs_open(NULL, NULL, &db, &err_), VS_ERR_INVALID_INPUT, "data_dir is NULL");
  CHECK(db == NULL);
  EXPECT_ERROR(vs_open("", NULL, &db, &err_), VS_ERR_INVALID_INPUT, "data_dir is empty");
  EXPECT_ERROR(vs_open(work, NULL, NULL, &err_), VS_ERR_INVALID_INPUT, "db is NULL");
  EXPECT_ERROR(vs_open("\xff\xfe", NULL, &db, &err_), VS_ERR_INVALID_INPUT, "not valid UTF-8");
  EXPECT_ERROR(vs_open(join(work, "missing"), NULL, &db, &err_), VS_ERR_NOT_FOUND, "vs_open");
  vs_open_options_init(&o);
  o.size = 3;
  EXPECT_ERROR(vs_open(work, &o, &db, &err_), VS_ERR_INVALID_INPUT, "options->size");
  vs_open_options_init(&o);
  o.durability = (vs_durability)7;
  EXPECT_ERROR(vs_open(work, &o, &db, &err_), VS_ERR_INVALID_INPUT, "durability");
  EXPECT_ERROR(vs_enroll_bytes(join(work, "e"), "{", 1, NULL, &db, &err_), VS_ERR_INVALID_INPUT,
               "enrollment");
  EXPECT_ERROR(vs_enroll_bytes(join(work, "e"), NULL, 0, NULL, &db, &err_), VS_ERR_INVALID_INPUT,
               "json is NULL");
  EXPECT_ERROR(vs_enroll_file(work, "no-such.json", NULL, &db, &err_), VS_ERR_INVALID_INPUT,
               "no-such.json");
  EXPECT_ERROR(vs_status_json(NULL, &json, &err_), VS_ERR_INVALID_INPUT, "db is NULL");
  EXPECT_ERROR(vs_visit_set(NULL, "a", "b", "c", &err_), VS_ERR_INVALID_INPUT, "db is NULL");
  EXPECT_ERROR(vs_sync(NULL, NULL, NULL, NULL, NULL, &err_), VS_ERR_INVALID_INPUT, "db is NULL");
  EXPECT_ERROR(vs_close(NULL, &err_), VS_ERR_INVALID_INPUT, "db is NULL");
  CHECK(vs_open(NULL, NULL, &db, NULL) == VS_ERR_INVALID_INPUT); /* error may be NULL */
  vs_release(NULL);
  vs_free(NULL);
  vs_cancel_trigger(NULL);
  vs_cancel_reset(NULL);
  vs_cancel_free(NULL);
  vs_open_options_init(NULL);
  CHECK(strcmp(vs_code_name(VS_ERR_DAMAGED), "damaged store") == 0);
  CHECK(strcmp(vs_code_name((vs_code)99), "unknown code") == 0);
  CHECK(vs_abi_version() == VS_ABI_VERSION);
  CHECK(strlen(vs_version()) > 0);
}

static void misuse_with_a_store(vs_db* db, const char* visit) {
  char* json = NULL;
  char bad_utf8[8] = {'y', 'e', (char)0xC3, 0};
  EXPECT_ERROR(vs_visit_set(db, visit, "no_such_item", "1", &err_), VS_ERR_INVALID_INPUT,
               "no_such_item");
  EXPECT_ERROR(vs_visit_set(db, visit, "enrolled_students", "many", &err_), VS_ERR_INVALID_INPUT,
               "enrolled_students");
  EXPECT_ERROR(vs_visit_set(db, visit, "enrolled_students", bad_utf8, &err_), VS_ERR_INVALID_INPUT,
               "value is not valid UTF-8");
  EXPECT_ERROR(vs_visit_set(db, visit, NULL, "1", &err_), VS_ERR_INVALID_INPUT, "item is NULL");
  EXPECT_ERROR(vs_visit_set(db, "nosuchvisit", "enrolled_students", "1", &err_), VS_ERR_NOT_FOUND,
               "nosuchvisit");
  EXPECT_ERROR(vs_visit_json(db, visit, NULL, &err_), VS_ERR_INVALID_INPUT, "json is NULL");
  EXPECT_ERROR(vs_visit_review(db, visit, "maybe", NULL, &err_), VS_ERR_INVALID_INPUT,
               "vs_visit_review");
  EXPECT_ERROR(vs_export(db, "xml", NULL, "/tmp/x", &err_), VS_ERR_INVALID_INPUT, "xml");
  EXPECT_ERROR(vs_visit_start(db, "S99999", "school-conditions", &json, &err_), VS_ERR_NOT_FOUND,
               "S99999");
  CHECK(json == NULL);
}

/* ---- the flow against the hub ---------------------------------------------------------- */

struct progress_seen {
  vs_db* db;
  int calls;
  int reentrant_ok; /* a status read from inside the callback, on the same handle */
};

static void on_progress(void* ctx, const vs_sync_progress* p) {
  struct progress_seen* seen = (struct progress_seen*)ctx;
  char* json = NULL;
  char* err = NULL;
  ++seen->calls;
  if (p->pushed > p->to_push) ++failures;
  if (vs_status_json(seen->db, &json, &err) == VS_OK && strstr(json, "device_id") != NULL)
    ++seen->reentrant_ok;
  vs_free(json);
  vs_free(err);
}

static int log_lines = 0;
static void on_log(void* ctx, int level, const char* message) {
  (void)ctx;
  if (level >= 0 && level <= 2 && message != NULL && message[0] != '\0') ++log_lines;
}

static vs_db* enroll(const char* work, const char* enrollment) {
  vs_db* db = NULL;
  vs_open_options o;
  char* err = NULL;
  vs_open_options_init(&o);
  o.log = on_log;
  if (vs_enroll_file(join(work, "device"), enrollment, &o, &db, &err) != VS_OK) {
    fprintf(stderr, "enroll: %s\n", err != NULL ? err : "");
    vs_free(err);
    exit(1);
  }
  return db;
}

static void flow(const char* work, const char* enrollment) {
  vs_db* db = enroll(work, enrollment);
  vs_db* again = NULL;
  char* json = NULL;
  char* visit = NULL;
  char* report = NULL;
  struct progress_seen seen;
  CHECK(log_lines == 1); /* "opened ..." */
  EXPECT_ERROR(vs_enroll_file(join(work, "device"), enrollment, NULL, &again, &err_),
               VS_ERR_INVALID_INPUT, "vs_enroll_file");

  /* The first sync brings the templates and schools. */
  seen.db = db;
  seen.calls = 0;
  seen.reentrant_ok = 0;
  MUST(vs_sync(db, on_progress, &seen, NULL, &report, &err_));
  CHECK(report != NULL && strstr(report, "\"pulled\"") != NULL);
  vs_free(report);
  CHECK(seen.calls > 0 && seen.reentrant_ok == seen.calls);
  MUST(vs_templates_json(db, &json, &err_));
  CHECK(json != NULL && strstr(json, "school-conditions") != NULL);
  vs_free(json);
  MUST(vs_schools_json(db, &json, &err_));
  CHECK(json != NULL && strstr(json, "S00001") != NULL);
  vs_free(json);

  MUST(vs_visit_start(db, "S00001", "school-conditions", &visit, &err_));
  CHECK(visit != NULL && strlen(visit) == 36);
  MUST(vs_visit_set(db, visit, "enrolled_students", "412", &err_));
  MUST(vs_visit_set(db, visit, "broadband_ok", "yes", &err_));
  MUST(vs_visit_note(db, visit, "inspector_notes", "\xe6\xa0\xa1\xe8\x88\x8d ok", &err_));
  misuse_with_a_store(db, visit);
  MUST(vs_visit_json(db, visit, &json, &err_));
  CHECK(json != NULL && strstr(json, "412") != NULL);
  vs_free(json);
  MUST(vs_visits_json(db, &json, &err_));
  CHECK(json != NULL && strstr(json, visit) != NULL);
  vs_free(json);
  MUST(vs_conflicts_json(db, &json, &err_));
  CHECK(json != NULL && json[0] == '[');
  vs_free(json);
  EXPECT_ERROR(vs_resolve(db, visit, "enrolled_students", "400", &err_), VS_ERR_INVALID_INPUT,
               "vs_resolve");
  MUST(vs_status_json(db, &json, &err_));
  CHECK(json != NULL && strstr(json, "\"unsynced_ops\"") != NULL);
  vs_free(json);

  MUST(vs_sync(db, NULL, NULL, NULL, &report, &err_));
  CHECK(report != NULL && strstr(report, "\"pushed\":") != NULL &&
        strstr(report, "\"pushed\":0") == NULL);
  vs_free(report);
  MUST(vs_export(db, "jsonl", NULL, join(work, "export.jsonl"), &err_));
  {
    FILE* f = fopen(join(work, "export.jsonl"), "rb");
    char line[16384];
    int found = 0;
    CHECK(f != NULL);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) found |= strstr(line, visit) != NULL;
    CHECK(found);
    if (f != NULL) fclose(f);
  }

  /* Closed: every call refuses; a second close too; release frees. */
  MUST(vs_close(db, &err_));
  EXPECT_ERROR(vs_close(db, &err_), VS_ERR_INVALID_INPUT, "closed already");
  EXPECT_ERROR(vs_visit_set(db, visit, "enrolled_students", "1", &err_), VS_ERR_INVALID_INPUT,
               "is closed");
  EXPECT_ERROR(vs_sync(db, NULL, NULL, NULL, NULL, &err_), VS_ERR_INVALID_INPUT, "is closed");
  vs_release(db);

  /* Reopened: the answers are there, synced. */
  MUST(vs_open(join(work, "device"), NULL, &db, &err_));
  MUST(vs_visit_json(db, visit, &json, &err_));
  CHECK(json != NULL && strstr(json, "412") != NULL);
  vs_free(json);
  MUST(vs_status_json(db, &json, &err_));
  CHECK(json != NULL && (strstr(json, "\"unsynced_ops\":0") != NULL ||
                         strstr(json, "\"unsynced_ops\": 0") != NULL));
  vs_free(json);
  vs_free(visit);
  vs_release(db); /* open: closed by the release */
}

/* ---- cancellation from another thread ---------------------------------------------------- */

struct canceller {
  vs_cancel* token;
};

static void* cancel_later(void* arg) {
  struct canceller* c = (struct canceller*)arg;
  struct timespec t = {0, 300 * 1000 * 1000};
  nanosleep(&t, NULL);
  vs_cancel_trigger(c->token);
  return NULL;
}

static void cancellation(const char* work, const char* silent_enrollment) {
  vs_db* db = NULL;
  struct canceller c;
  pthread_t thread;
  double t0;
  double took;
  char* json = NULL;
  MUST(vs_enroll_file(join(work, "silent"), silent_enrollment, NULL, &db, &err_));
  c.token = vs_cancel_new();
  CHECK(c.token != NULL);
  vs_cancel_trigger(c.token);
  EXPECT_ERROR(vs_sync(db, NULL, NULL, c.token, NULL, &err_), VS_ERR_CANCELLED, "cancelled");
  vs_cancel_reset(c.token);
  /* The hub's port accepts and never answers: the sync waits in the TLS handshake. */
  t0 = now_s();
  CHECK(pthread_create(&thread, NULL, cancel_later, &c) == 0);
  EXPECT_ERROR(vs_sync(db, NULL, NULL, c.token, NULL, &err_), VS_ERR_CANCELLED, "cancelled");
  took = now_s() - t0;
  pthread_join(thread, NULL);
  fprintf(stderr, "cancelled sync returned after %.3f s\n", took);
  CHECK(took < 0.3 + 1.0);
  /* The handle goes on working after the cancelled sync. */
  MUST(vs_status_json(db, &json, &err_));
  vs_free(json);
  vs_cancel_free(c.token);
  vs_release(db);
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr,
            "usage: capi_test WORK_DIR ENROLLMENT SILENT_ENROLLMENT PROXIED_ENROLLMENT "
            "OTHER_ENROLLMENT\n");
    return 2;
  }
  misuse_without_a_store(argv[1]);
  flow(argv[1], argv[2]);
  cancellation(argv[1], argv[3]);
  replicator_tests(argv[1], argv[4], argv[5], argv[3]);
  if (failures != 0) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("capi_test: all checks passed\n");
  return 0;
}
