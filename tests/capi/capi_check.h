/* What the C API test's files share (capi_test.c, capi_replicator.c): checks that count their
 * failures, and small helpers. C99. */
#ifndef CAPI_CHECK_H
#define CAPI_CHECK_H

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <visitsync.h>

extern int failures; /* checks failed so far (capi_test.c) */

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Checks that a call failed with `code` and a message holding `words`; frees the message. */
static inline void expect_error(vs_code got, char* error, vs_code code, const char* words,
                                int line) {
  if (got != code) {
    fprintf(stderr, "line %d: got %s, expected %s (%s)\n", line, vs_code_name(got),
            vs_code_name(code), error != NULL ? error : "no message");
    ++failures;
  } else if (error == NULL || strstr(error, words) == NULL) {
    fprintf(stderr, "line %d: message '%s' lacks '%s'\n", line, error != NULL ? error : "(null)",
            words);
    ++failures;
  }
  vs_free(error);
}
/* `call` names its error argument `err_`, which the macro declares. */
#define EXPECT_ERROR(call, code, words)            \
  do {                                             \
    char* err_ = NULL;                             \
    vs_code c_ = (call);                           \
    expect_error(c_, err_, code, words, __LINE__); \
  } while (0)

static inline void must(vs_code got, char* error, int line) {
  if (got != VS_OK) {
    fprintf(stderr, "line %d: %s: %s\n", line, vs_code_name(got), error != NULL ? error : "");
    ++failures;
  }
  vs_free(error);
}
#define MUST(call)            \
  do {                        \
    char* err_ = NULL;        \
    vs_code c_ = (call);      \
    must(c_, err_, __LINE__); \
  } while (0)

static inline double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms) {
  struct timespec t;
  t.tv_sec = ms / 1000;
  t.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&t, NULL);
}

/* DIR/NAME in a buffer of the caller's. */
static inline const char* join_in(char* buf, size_t size, const char* dir, const char* name) {
  snprintf(buf, size, "%s/%s", dir, name);
  return buf;
}

/* The replicator and change observers (capi_replicator.c). */
void replicator_tests(const char* work, const char* proxied, const char* other, const char* silent);

#endif
