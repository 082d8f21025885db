/* The replicator and change observers from C (visitsync.h), against the real hub that
 * tests/capi/harness.py runs:
 * - through a proxy that refuses the first connections and then cuts the link every 1.5 s,
 *   two threads write answers while the replicator syncs; every write reaches the hub with no
 *   sync called by the test, and the backoff shows in the states the callback saw;
 * - a second device's visit arrives through a pull and the change observer names it;
 * - the options are checked, a callback may call back (but not close), and stopping a sync
 *   stuck in the TLS handshake returns within a second. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi_check.h"

#define MAX_SEEN 4096

struct seen {
  pthread_mutex_t mu;
  vs_db* db;
  int n;
  vs_replicator_state state[MAX_SEEN];
  uint32_t failures[MAX_SEEN];
  uint64_t retry_in_ms[MAX_SEEN];
  int reentrant_ok;
  int close_refused;
  uint64_t photos_received; /* the most the status showed */
};

static void on_status(void* ctx, const vs_replicator_status* s) {
  struct seen* seen = (struct seen*)ctx;
  char* json = NULL;
  char* err = NULL;
  int first;
  pthread_mutex_lock(&seen->mu);
  first = seen->n == 0;
  if (seen->n < MAX_SEEN) {
    seen->state[seen->n] = s->state;
    seen->failures[seen->n] = s->failures;
    seen->retry_in_ms[seen->n] = s->retry_in_ms;
    ++seen->n;
  }
  if (s->photos.received > seen->photos_received) seen->photos_received = s->photos.received;
  pthread_mutex_unlock(&seen->mu);
  if (s->last_error == NULL || (s->last_error_code == VS_OK) != (s->last_error[0] == '\0'))
    ++failures;
  if (!first) return;
  /* From the callback: a call on the same handle works, a close is refused. */
  if (vs_replicator_status_json(seen->db, &json, &err) == VS_OK && strstr(json, "\"state\""))
    ++seen->reentrant_ok;
  vs_free(json);
  vs_free(err);
  err = NULL;
  if (vs_close(seen->db, &err) == VS_ERR_INVALID_INPUT && strstr(err, "replicator callback"))
    ++seen->close_refused;
  vs_free(err);
}

struct changes {
  pthread_mutex_t mu;
  char visit[64];
  int calls;
};

static void on_changes(void* ctx, const char* const* ids, size_t count) {
  struct changes* c = (struct changes*)ctx;
  size_t i;
  pthread_mutex_lock(&c->mu);
  ++c->calls;
  for (i = 0; i < count; ++i) {
    if (strlen(ids[i]) < sizeof c->visit) strcpy(c->visit, ids[i]);
  }
  pthread_mutex_unlock(&c->mu);
}

/* The number after "KEY": in a JSON text (-1 when missing). */
static long long json_number(const char* json, const char* key) {
  char pattern[64];
  const char* at;
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  at = json != NULL ? strstr(json, pattern) : NULL;
  return at != NULL ? atoll(at + strlen(pattern)) : -1;
}

static long long status_number(vs_db* db, const char* key) {
  char* json = NULL;
  char* err = NULL;
  long long n = -1;
  if (vs_replicator_status_json(db, &json, &err) == VS_OK) n = json_number(json, key);
  vs_free(json);
  vs_free(err);
  return n;
}

static int state_is(vs_db* db, const char* state) {
  char* json = NULL;
  char* err = NULL;
  char want[32];
  int yes = 0;
  snprintf(want, sizeof want, "\"state\":\"%s\"", state);
  if (vs_replicator_status_json(db, &json, &err) == VS_OK) yes = strstr(json, want) != NULL;
  vs_free(json);
  vs_free(err);
  return yes;
}

static long long unsynced(vs_db* db) {
  char* json = NULL;
  char* err = NULL;
  long long n = -1;
  if (vs_status_json(db, &json, &err) == VS_OK) n = json_number(json, "unsynced_ops");
  vs_free(json);
  vs_free(err);
  return n;
}

struct writer {
  vs_db* db;
  char* visit;
  int writes;
  int errors;
};

/* Writes an answer every 20 ms for 2 s, through the handle the replicator syncs from. */
static void* write_answers(void* arg) {
  struct writer* w = (struct writer*)arg;
  double end = now_s() + 2.0;
  char value[32];
  while (now_s() < end) {
    char* err = NULL;
    snprintf(value, sizeof value, "%d", 100 + w->writes);
    if (vs_visit_set(w->db, w->visit, "enrolled_students", value, &err) != VS_OK) ++w->errors;
    vs_free(err);
    ++w->writes;
    sleep_ms(20);
  }
  return NULL;
}

static void options_misuse(vs_db* db) {
  vs_replicator_options o;
  char* json = NULL;
  EXPECT_ERROR(vs_replicator_start(NULL, NULL, &err_), VS_ERR_INVALID_INPUT, "db is NULL");
  vs_replicator_options_init(&o);
  o.size = 8;
  EXPECT_ERROR(vs_replicator_start(db, &o, &err_), VS_ERR_INVALID_INPUT, "options->size");
  vs_replicator_options_init(&o);
  o.first_retry_ms = 50;
  EXPECT_ERROR(vs_replicator_start(db, &o, &err_), VS_ERR_INVALID_INPUT, "first_retry_ms");
  vs_replicator_options_init(&o);
  o.pull_every_ms = 10;
  EXPECT_ERROR(vs_replicator_start(db, &o, &err_), VS_ERR_INVALID_INPUT, "pull_every_ms");
  EXPECT_ERROR(vs_replicator_retry_now(db, &err_), VS_ERR_INVALID_INPUT, "not running");
  MUST(vs_replicator_stop(db, &err_)); /* not running: nothing to do */
  MUST(vs_replicator_status_json(db, &json, &err_));
  CHECK(json != NULL && strstr(json, "\"state\":\"stopped\"") != NULL);
  vs_free(json);
  EXPECT_ERROR(vs_observe_changes(NULL, on_changes, NULL, &err_), VS_ERR_INVALID_INPUT, "db");
}

static int wait_for(vs_db* db, double limit_s, int (*done)(vs_db*)) {
  double end = now_s() + limit_s;
  while (now_s() < end) {
    if (done(db)) return 1;
    sleep_ms(20);
  }
  return done(db);
}
static int synced_once(vs_db* db) { return status_number(db, "syncs") >= 1; }
static int all_sent(vs_db* db) { return unsynced(db) == 0 && state_is(db, "idle"); }

/* What the callback saw: the backoff while the proxy refused, then work, then idle. */
static void check_states(struct seen* seen) {
  int i;
  uint32_t most = 0;
  int busy = 0;
  int idle = 0;
  pthread_mutex_lock(&seen->mu);
  for (i = 0; i < seen->n; ++i) {
    if (seen->state[i] == VS_REPLICATOR_OFFLINE) {
      /* The n-th failure waits between half and all of 200 ms * 2^(n-1), at most 1600 ms. */
      uint64_t full = 200u << (seen->failures[i] > 4 ? 3 : seen->failures[i] - 1);
      if (full > 1600) full = 1600;
      CHECK(seen->retry_in_ms[i] >= full / 2 && seen->retry_in_ms[i] <= full);
      if (seen->failures[i] > most) most = seen->failures[i];
    }
    busy += seen->state[i] == VS_REPLICATOR_BUSY;
    idle += seen->state[i] == VS_REPLICATOR_IDLE;
  }
  fprintf(stderr, "replicator: %d states seen, %u failures in a row at most\n", seen->n, most);
  CHECK(most >= 3);
  CHECK(busy > 0 && idle > 0);
  CHECK(seen->reentrant_ok == 1 && seen->close_refused == 1);
  pthread_mutex_unlock(&seen->mu);
}

/* A second device writes a visit and syncs; the replicated one pulls it. */
/* A photo b took reaches db when db asks for it, through the replicator; the photo calls'
 * misuses are refused. */
static void fetch_a_photo(vs_db* db, vs_db* b, const char* visit, struct seen* seen) {
  char jpeg[3000];
  char* photo = NULL;
  char* path = NULL;
  void* bytes = NULL;
  size_t size = 0;
  uint64_t removed = 7;
  char* err = NULL;
  double end;
  size_t i;
  jpeg[0] = (char)0xFF;
  jpeg[1] = (char)0xD8;
  jpeg[2] = (char)0xFF;
  jpeg[3] = (char)0xE0;
  for (i = 4; i < sizeof jpeg; ++i) jpeg[i] = (char)(i * 31 % 251);
  EXPECT_ERROR(vs_attach_bytes(b, "GIF89a..", 8, &photo, &err_), VS_ERR_INVALID_INPUT,
               "not a JPEG, PNG or HEIC image");
  EXPECT_ERROR(vs_attach_bytes(b, NULL, 8, &photo, &err_), VS_ERR_INVALID_INPUT, "bytes is NULL");
  MUST(vs_attach_bytes(b, jpeg, sizeof jpeg, &photo, &err_));
  CHECK(photo != NULL && strlen(photo) == 64);
  MUST(vs_visit_set(b, visit, "buildings_photo", photo, &err_));
  MUST(vs_sync(b, NULL, NULL, NULL, NULL, &err_));
  MUST(vs_photo_path(b, photo, &path, &err_));
  vs_free(path);
  path = NULL;

  MUST(vs_replicator_retry_now(db, &err_));
  end = now_s() + 20;
  while (now_s() < end && vs_photo_fetch(db, photo, &err) == VS_ERR_NOT_FOUND) {
    vs_free(err); /* the visit has not come yet */
    err = NULL;
    sleep_ms(50);
  }
  vs_free(err);
  err = NULL;
  EXPECT_ERROR(vs_photo_read(db, photo, &bytes, &size, &err_), VS_ERR_NOT_FOUND, "vs_photo_fetch");
  MUST(vs_photo_fetch(db, photo, &err_)); /* wakes the replicator */
  end = now_s() + 20;
  while (now_s() < end && vs_photo_read(db, photo, &bytes, &size, &err) != VS_OK) {
    vs_free(err);
    err = NULL;
    sleep_ms(50);
  }
  vs_free(err);
  CHECK(bytes != NULL && size == sizeof jpeg && memcmp(bytes, jpeg, size) == 0);
  vs_free(bytes);
  MUST(vs_photo_path(db, photo, &path, &err_));
  CHECK(path != NULL && strstr(path, photo) != NULL);
  vs_free(path);
  end = now_s() + 5;
  for (;;) {
    uint64_t got;
    pthread_mutex_lock(&seen->mu);
    got = seen->photos_received;
    pthread_mutex_unlock(&seen->mu);
    if (got >= 1 || now_s() > end) {
      CHECK(got >= 1); /* the status callback showed the photo's progress */
      break;
    }
    sleep_ms(20);
  }

  EXPECT_ERROR(vs_photo_fetch(db, "cafe", &err_), VS_ERR_INVALID_INPUT, "not a photo id");
  EXPECT_ERROR(vs_photo_read(db, photo, NULL, &size, &err_), VS_ERR_INVALID_INPUT, "NULL");
  EXPECT_ERROR(vs_photo_downloads(db, "never", &err_), VS_ERR_INVALID_INPUT, "eager");
  MUST(vs_photo_downloads(db, "eager", &err_));
  MUST(vs_photo_downloads(db, "lazy", &err_));
  EXPECT_ERROR(vs_photo_collect(db, 5000, &removed, &err_), VS_ERR_INVALID_INPUT, "grace_days");
  MUST(vs_photo_collect(db, 0, &removed, &err_));
  CHECK(removed == 0); /* the visit names it */
  vs_free(photo);
}

static void observe_a_pull(const char* work, vs_db* db, const char* other, struct seen* seen) {
  char buf[4096];
  vs_db* b = NULL;
  char* visit = NULL;
  char* json = NULL;
  struct changes c;
  double end;
  memset(&c, 0, sizeof c);
  pthread_mutex_init(&c.mu, NULL);
  MUST(vs_observe_changes(db, on_changes, &c, &err_));
  MUST(vs_enroll_file(join_in(buf, sizeof buf, work, "other"), other, NULL, &b, &err_));
  MUST(vs_sync(b, NULL, NULL, NULL, NULL, &err_));
  MUST(vs_visit_start(b, "S00001", "school-conditions", &visit, &err_));
  MUST(vs_visit_set(b, visit, "enrolled_students", "412", &err_));
  MUST(vs_sync(b, NULL, NULL, NULL, NULL, &err_));
  MUST(vs_replicator_retry_now(db, &err_));
  end = now_s() + 20;
  while (now_s() < end) {
    int got;
    pthread_mutex_lock(&c.mu);
    got = visit != NULL && strcmp(c.visit, visit) == 0;
    pthread_mutex_unlock(&c.mu);
    if (got) break;
    sleep_ms(20);
  }
  pthread_mutex_lock(&c.mu);
  CHECK(visit != NULL && strcmp(c.visit, visit) == 0);
  pthread_mutex_unlock(&c.mu);
  MUST(vs_visit_json(db, visit, &json, &err_));
  CHECK(json != NULL && strstr(json, "\"last_received\":\"20") != NULL);
  CHECK(json != NULL && strstr(json, "\"unacked\":0") != NULL);
  vs_free(json);
  MUST(vs_observe_changes(db, NULL, NULL, &err_));
  fetch_a_photo(db, b, visit, seen);
  vs_free(visit);
  vs_release(b);
  pthread_mutex_destroy(&c.mu);
}

/* Stopping a sync stuck in the TLS handshake, from the test's thread. */
static void stop_stuck(const char* work, const char* silent) {
  char buf[4096];
  vs_db* db = NULL;
  vs_replicator_options o;
  double t0;
  double took;
  MUST(vs_enroll_file(join_in(buf, sizeof buf, work, "stuck"), silent, NULL, &db, &err_));
  vs_replicator_options_init(&o);
  MUST(vs_replicator_start(db, &o, &err_));
  sleep_ms(300);
  CHECK(state_is(db, "connecting"));
  t0 = now_s();
  MUST(vs_replicator_stop(db, &err_));
  took = now_s() - t0;
  fprintf(stderr, "replicator stopped mid-handshake in %.3f s\n", took);
  CHECK(took < 1.0);
  CHECK(state_is(db, "stopped"));
  MUST(vs_close(db, &err_));
  vs_release(db);
  /* The store opens again (vs_open checks its integrity). */
  MUST(vs_open(join_in(buf, sizeof buf, work, "stuck"), NULL, &db, &err_));
  vs_release(db);
}

void replicator_tests(const char* work, const char* proxied, const char* other,
                      const char* silent) {
  char buf[4096];
  vs_db* db = NULL;
  vs_replicator_options o;
  struct seen* seen = calloc(1, sizeof *seen);
  struct writer w[2];
  pthread_t threads[2];
  char* json = NULL;
  int i;
  CHECK(seen != NULL);
  if (seen == NULL) return;
  pthread_mutex_init(&seen->mu, NULL);
  MUST(vs_enroll_file(join_in(buf, sizeof buf, work, "replicated"), proxied, NULL, &db, &err_));
  seen->db = db;
  options_misuse(db);

  vs_replicator_options_init(&o);
  o.first_retry_ms = 200;
  o.max_retry_ms = 1600;
  o.debounce_ms = 100;
  o.pull_every_ms = 0;
  o.on_status = on_status;
  o.status_ctx = seen;
  MUST(vs_replicator_start(db, &o, &err_));
  EXPECT_ERROR(vs_replicator_start(db, &o, &err_), VS_ERR_INVALID_INPUT, "runs already");
  CHECK(wait_for(db, 30, synced_once)); /* the templates and schools came */

  for (i = 0; i < 2; ++i) {
    w[i].db = db;
    w[i].visit = NULL;
    w[i].writes = 0;
    w[i].errors = 0;
    MUST(vs_visit_start(db, "S00001", "school-conditions", &w[i].visit, &err_));
  }
  for (i = 0; i < 2; ++i) CHECK(pthread_create(&threads[i], NULL, write_answers, &w[i]) == 0);
  for (i = 0; i < 2; ++i) pthread_join(threads[i], NULL);
  CHECK(wait_for(db, 60, all_sent)); /* no sync called: the replicator did it all */
  for (i = 0; i < 2; ++i) {
    char value[32];
    CHECK(w[i].errors == 0 && w[i].writes > 10);
    MUST(vs_visit_json(db, w[i].visit, &json, &err_));
    snprintf(value, sizeof value, "%d", 100 + w[i].writes - 1);
    CHECK(json != NULL && strstr(json, value) != NULL);
    CHECK(json != NULL && strstr(json, "\"unacked\":0") != NULL);
    CHECK(json != NULL && strstr(json, "\"last_sent\":\"20") != NULL);
    vs_free(json);
    vs_free(w[i].visit);
  }
  check_states(seen);
  observe_a_pull(work, db, other, seen);
  MUST(vs_replicator_stop(db, &err_));
  CHECK(state_is(db, "stopped"));
  MUST(vs_close(db, &err_));
  vs_release(db);
  pthread_mutex_destroy(&seen->mu);
  free(seen);
  stop_stuck(work, silent);
}
