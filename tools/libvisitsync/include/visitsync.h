/* visitsync.h: the C API of visitsync, for the app shells that embed it (Swift, Kotlin through
 * JNI, Flutter FFI, React Native, plain C). C99; link with libvisitsync (pkg-config visitsync,
 * or CMake's find_package(visitsync) and the target visitsync::visitsync).
 *
 * Handles. A vs_db is one open data folder. It is opaque: only pointers to it cross the ABI.
 * vs_close() closes its store and keeps the handle, so that a later call on it fails cleanly
 * (VS_ERR_INVALID_INPUT, "... is closed") instead of touching freed memory; vs_release() frees
 * the handle (closing it first if need be).
 *
 * Errors. Every call that can fail returns a vs_code. On failure, when `error` is not NULL,
 * *error receives a message (UTF-8, lowercase, saying what is wrong and where), which the
 * caller frees with vs_free(); on success *error is set to NULL. No C++ exception ever crosses
 * this ABI: an unexpected one becomes VS_ERR_INTERNAL with its message.
 *
 * Strings. Every string argument is NUL-terminated UTF-8; a NULL pointer, invalid UTF-8 or a
 * string over 1 MiB is refused with VS_ERR_INVALID_INPUT naming the argument. Every string
 * returned through an out-parameter (char **) belongs to the caller, who frees it with
 * vs_free(); it is never freed with the caller's own free(), whose allocator may differ.
 *
 * Threads. A handle may be used from any thread, one call at a time: the calls on one vs_db are
 * serialized by a lock inside it, so two threads calling at once wait for each other, never
 * corrupt anything. vs_sync() does not hold that lock while it talks to the hub: it works on a
 * connection of its own, so answers can be written while a sync runs. Callbacks (progress, log)
 * run on the thread that called vs_sync() (or vs_open() for the log), never while the handle's
 * lock is held; a callback may call back into this API, on the same handle too.
 * vs_cancel_trigger() may be called from any thread at any time. The replicator's callbacks
 * (status, changes) run on its own thread, under the same rules; see vs_replicator_start().
 */
#ifndef VISITSYNC_H
#define VISITSYNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the shared library exports: only the functions declared here (and a version script
 * hides everything else). */
#if defined(__GNUC__) || defined(__clang__)
#define VS_API __attribute__((visibility("default")))
#else
#define VS_API
#endif

/* The ABI's version: it changes only when a change would break a program built against an
 * earlier header. vs_abi_version() returns the library's; compare them at start-up. */
#define VS_ABI_VERSION 1

/* Mirrors the engine's error codes one to one; never renumbered. */
typedef enum vs_code {
  VS_OK = 0,
  VS_ERR_INVALID_INPUT = 1, /* a bad argument or a misuse (NULL, closed handle): nothing changed */
  VS_ERR_NOT_FOUND = 2,     /* the named visit, item, school or file does not exist */
  VS_ERR_REJECTED = 3,      /* the hub refused this device or some of its changes */
  VS_ERR_UNAVAILABLE = 4,   /* the hub cannot be reached or the link failed: retry later */
  VS_ERR_CORRUPT = 5,       /* a frame from the hub was malformed */
  VS_ERR_IO = 6,            /* the operating system refused a read or a write (disk full) */
  VS_ERR_INTERNAL = 7,      /* a bug in visitsync */
  VS_ERR_DAMAGED = 8,       /* the data folder's store is damaged ("store damaged: ...") */
  VS_ERR_CANCELLED = 9      /* the caller cancelled the call (vs_cancel_trigger) */
} vs_code;

typedef struct vs_db vs_db;
typedef struct vs_cancel vs_cancel;

/* The library's version ("0.1.0"): a static string, never freed. */
VS_API const char* vs_version(void);
/* The library's ABI version: VS_ABI_VERSION of the header it was built with. */
VS_API int vs_abi_version(void);
/* A short lowercase name of a code ("invalid input"): a static string. */
VS_API const char* vs_code_name(vs_code code);
/* Frees what the library returned through a char ** (messages, JSON, ids). NULL is a no-op. */
VS_API void vs_free(void* p);

/* Options for vs_open() and vs_enroll_*(). Set `size` to sizeof(vs_open_options) (or call
 * vs_open_options_init), so that a later library can tell which fields a caller knows. */
typedef enum vs_durability {
  VS_DURABILITY_FULL = 0,  /* the default: a write that returned survives a power cut */
  VS_DURABILITY_NORMAL = 1 /* a write survives the app being killed, not a power cut */
} vs_durability;

/* A log line from the library (level 0 information, 1 warning, 2 error): what it did that the
 * calls' results do not say (a sync's summary, a refused op). `message` is valid during the
 * call only. */
typedef void (*vs_log_fn)(void* ctx, int level, const char* message);

typedef struct vs_open_options {
  size_t size;
  vs_durability durability;
  vs_log_fn log; /* NULL: no log */
  void* log_ctx;
} vs_open_options;

VS_API void vs_open_options_init(vs_open_options* options);

/* Opens a data folder made by `visitsync init` or vs_enroll_*(). `options` may be NULL. */
VS_API vs_code vs_open(const char* data_dir, const vs_open_options* options, vs_db** db,
                       char** error);
/* Makes a new data folder for an enrolled device from the enrollment file that
 * `visitsync-admin enroll-device` wrote (or its bytes), checked as the hub will check it (the
 * key matches the certificate, which chains to the enclosed CA, is valid now and names the
 * device), and opens it. Refused when `data_dir` holds a store already; on failure nothing is
 * left behind. `len` is the byte count of `json` (which needs no NUL). */
VS_API vs_code vs_enroll_file(const char* data_dir, const char* enrollment_path,
                              const vs_open_options* options, vs_db** db, char** error);
VS_API vs_code vs_enroll_bytes(const char* data_dir, const char* json, size_t len,
                               const vs_open_options* options, vs_db** db, char** error);
/* Closes the store; the handle stays until vs_release(). Closing twice is VS_ERR_INVALID_INPUT. */
VS_API vs_code vs_close(vs_db* db, char** error);
/* Frees the handle, closing it first if it is open. NULL is a no-op. */
VS_API void vs_release(vs_db* db);

/* Reference data, as JSON arrays: the newest version of each template this device holds, each
 * as published (schema/templates/FORMAT.md); the schools assigned today to who acts here, each
 * {id, name, city, county, township, level, boarding, students, teachers}. */
VS_API vs_code vs_templates_json(vs_db* db, char** json, char** error);
VS_API vs_code vs_schools_json(vs_db* db, char** json, char** error);

/* Visits. `visit` is a visit id or a unique prefix of 6 or more characters of it. Values are
 * given as the command line takes them (`visitsync visit set --help`): yes/no, numbers as
 * written, dates YYYY-MM-DD, option keys, "LAT,LON", text; each is checked against its item. */
VS_API vs_code vs_visit_start(vs_db* db, const char* school_id, const char* template_id,
                              char** visit_id, char** error);
VS_API vs_code vs_visit_set(vs_db* db, const char* visit, const char* item, const char* value,
                            char** error);
VS_API vs_code vs_visit_note(vs_db* db, const char* visit, const char* item, const char* text,
                             char** error);
/* Photos. Stores a photo file's content (a JPEG, PNG or HEIC image of at most 32 MiB) and
 * returns its id (64 hex digits, the SHA-256 of the bytes): the value to give a photo item
 * (several separated by commas). A sync sends it to the hub after the visit's changes. */
VS_API vs_code vs_attach_file(vs_db* db, const char* path, char** photo_id, char** error);
/* The same for the bytes of a photo (`size` of them, at `bytes`). */
VS_API vs_code vs_attach_bytes(vs_db* db, const void* bytes, size_t size, char** photo_id,
                               char** error);
/* A photo held here: the path of its file (do not write to it or move it), or its bytes in
 * memory for vs_free(). VS_ERR_NOT_FOUND when this device does not hold it (yet). */
VS_API vs_code vs_photo_path(vs_db* db, const char* photo_id, char** path, char** error);
VS_API vs_code vs_photo_read(vs_db* db, const char* photo_id, void** bytes, size_t* size,
                             char** error);
/* Asks the hub for a photo a visit here names (taken on another device): the next sync fetches
 * it, resuming where a cut one stopped; the replicator is woken. VS_ERR_NOT_FOUND when no visit
 * here names it; VS_OK at once when it is here. */
VS_API vs_code vs_photo_fetch(vs_db* db, const char* photo_id, char** error);
/* `mode` "eager": every sync fetches every photo this device's visits name (a supervisor's
 * tablet at the office); "lazy" (the default): only those asked for with vs_photo_fetch. */
VS_API vs_code vs_photo_downloads(vs_db* db, const char* mode, char** error);
/* Removes photo files nothing needs (no visit's answer names them, none waits to be sent, none
 * is asked for) untouched for `grace_days` (at most 3650); `removed` (may be NULL) counts them. */
VS_API vs_code vs_photo_collect(vs_db* db, uint32_t grace_days, uint64_t* removed, char** error);
VS_API vs_code vs_visit_submit(vs_db* db, const char* visit, char** error);
/* `decision` is "approve" or "return"; `comment` may be NULL. */
VS_API vs_code vs_visit_review(vs_db* db, const char* visit, const char* decision,
                               const char* comment, char** error);
/* One visit as JSON (the form of `visitsync visit show --json`), or every visit here (the
 * form of `visitsync visit list --json`). Each carries its sync state: "sync": {unacked (this
 * device's changes the hub has not acknowledged), refused ([{seq, reason}]: changes the hub
 * refused), last_sent, last_received (UTC times, or null)}. */
VS_API vs_code vs_visit_json(vs_db* db, const char* visit, char** json, char** error);
VS_API vs_code vs_visits_json(vs_db* db, char** json, char** error);

/* Flagged items (the form of `visitsync conflicts --json`), and settling one with a value. */
VS_API vs_code vs_conflicts_json(vs_db* db, char** json, char** error);
VS_API vs_code vs_resolve(vs_db* db, const char* visit, const char* item, const char* value,
                          char** error);

/* This device (the form of `visitsync status --json`). */
VS_API vs_code vs_status_json(vs_db* db, char** json, char** error);
/* Writes an export to `path` (through a temporary file and a rename): `format` "csv", "jsonl"
 * or "summary"; `template_id` may be NULL (all templates; csv needs one when visits use
 * several). */
VS_API vs_code vs_export(vs_db* db, const char* format, const char* template_id, const char* path,
                         char** error);

/* A cancellation token for vs_sync(): triggered from any thread, it ends the sync within a
 * second with VS_ERR_CANCELLED. One token serves one sync at a time; vs_cancel_reset() makes
 * it usable again. */
VS_API vs_cancel* vs_cancel_new(void);
VS_API void vs_cancel_trigger(vs_cancel* cancel);
VS_API void vs_cancel_reset(vs_cancel* cancel);
VS_API void vs_cancel_free(vs_cancel* cancel);

typedef struct vs_sync_progress {
  uint64_t pushed;     /* ops the hub acknowledged so far */
  uint64_t to_push;    /* ops this sync set out to push */
  uint64_t pulled;     /* ops received so far */
  uint64_t bytes_sent; /* on the connection so far (TLS and TCP payload) */
  uint64_t bytes_received;
} vs_sync_progress;
typedef void (*vs_progress_fn)(void* ctx, const vs_sync_progress* progress);

/* Photos moving in a sync (the replicator's status carries them). */
typedef struct vs_photo_progress {
  uint64_t sent;           /* photos the hub took whole */
  uint64_t bytes_sent;     /* photo bytes sent (resent ones included) */
  uint64_t received;       /* photos fetched whole */
  uint64_t bytes_received; /* photo bytes stored here */
  uint64_t to_fetch;       /* photos the sync set out to fetch */
} vs_photo_progress;

/* One sync with the hub (an enrolled device only), blocking: pushes every change the hub has
 * not acknowledged, pulls what is new. `progress`, `cancel` and `report` may be NULL. On
 * success *report is a JSON object: hub_id, pushed, pulled, applied, bytes_sent,
 * bytes_received, skew_ms, rejected (an array of {seq, reason}), changed (the ids of the visits
 * the pull changed), photos_sent, photos_refused ([{photo, reason}]), photos_fetched,
 * photos_not_yet (asked for, not on the hub yet). VS_ERR_REJECTED when the hub refused the device
 * or some ops (they stay here; *report is set then too), VS_ERR_UNAVAILABLE when it cannot be
 * reached: nothing is lost, sync again later. The change observer (vs_observe_changes) is called
 * before it returns. */
VS_API vs_code vs_sync(vs_db* db, vs_progress_fn progress, void* progress_ctx, vs_cancel* cancel,
                       char** report, char** error);

/* Change observers. After a sync (vs_sync or the replicator's) whose pull changed visits, once
 * those changes are committed and with no lock held: the ids of those visits (valid during the
 * call). On the thread that ran the sync. One observer per handle; `fn` NULL removes it. */
typedef void (*vs_changes_fn)(void* ctx, const char* const* visit_ids, size_t count);
VS_API vs_code vs_observe_changes(vs_db* db, vs_changes_fn fn, void* ctx, char** error);

/* The replicator: sync in the background, one per handle (an enrolled device only). It syncs
 * when started; a write through this handle (start, set, note, submit, review, resolve) wakes
 * it after a debounce; while idle it pulls every pull_every_ms for others' changes. After a
 * failure it waits first_retry_ms, then twice as long each time up to max_retry_ms, each wait
 * jittered between half and all of it, and tries again by itself; a write does not cut that
 * wait short, vs_replicator_retry_now() does (call it when the OS says the network is back).
 * It gives up (state stopped, the error kept) only on a damaged store, or an enrollment that
 * does not fit the data folder; a write through another handle does not wake it. It works on a
 * connection of its own: the handle stays free for writes. vs_close() stops it. */
typedef enum vs_replicator_state {
  VS_REPLICATOR_STOPPED = 0,    /* not started, stopped, or given up (last_error says why) */
  VS_REPLICATOR_OFFLINE = 1,    /* the last attempt failed: retrying in retry_in_ms */
  VS_REPLICATOR_CONNECTING = 2, /* connecting, TLS handshake, hello */
  VS_REPLICATOR_BUSY = 3,       /* pushing and pulling */
  VS_REPLICATOR_IDLE = 4        /* in step with the hub: waiting for a write or the next pull */
} vs_replicator_state;

typedef struct vs_replicator_status {
  vs_replicator_state state;
  vs_sync_progress progress; /* of the sync running now, else of the last one */
  uint32_t failures;         /* attempts failed in a row; 0 after a success */
  uint64_t retry_in_ms;      /* offline: the wait before the next attempt */
  vs_code last_error_code;   /* of the last failed attempt; VS_OK if none since the start */
  const char* last_error;    /* its message ("" if none), valid during the callback */
  int64_t last_sync_ms;      /* wall clock (ms since 1970) of the last success; 0: none yet */
  uint64_t syncs;            /* successful syncs since the start */
  vs_photo_progress photos;  /* of the sync running now, else of the last one */
} vs_replicator_status;

/* Called on the replicator's thread, with no lock held, at each change of state and after each
 * batch of a sync; it may call this API on the same handle (vs_replicator_stop() from there
 * asks the replicator to stop and returns at once; vs_close() and vs_release() are refused). */
typedef void (*vs_status_fn)(void* ctx, const vs_replicator_status* status);

typedef struct vs_replicator_options {
  size_t size;             /* sizeof(vs_replicator_options), or call the _init */
  uint32_t first_retry_ms; /* default 2000; 100 to max_retry_ms */
  uint32_t max_retry_ms;   /* default 300000 (5 min); at most 86400000 (a day) */
  uint32_t debounce_ms;    /* from a write to its sync; default 1000; at most 60000 */
  uint32_t pull_every_ms;  /* while idle; default 300000; 0: only after writes; else >= 1000 */
  vs_status_fn on_status;  /* NULL: no callback (vs_replicator_status_json polls) */
  void* status_ctx;
} vs_replicator_options;

VS_API void vs_replicator_options_init(vs_replicator_options* options);
/* `options` may be NULL (the defaults). VS_ERR_INVALID_INPUT when it runs already. */
VS_API vs_code vs_replicator_start(vs_db* db, const vs_replicator_options* options, char** error);
/* Ends a running sync (what it committed stays) and the thread, within a second. Stopping a
 * replicator that is not running is VS_OK. */
VS_API vs_code vs_replicator_stop(vs_db* db, char** error);
VS_API vs_code vs_replicator_retry_now(vs_db* db, char** error);
/* The status as JSON: state ("stopped", "offline", "connecting", "busy", "idle"), pushed,
 * to_push, pulled, bytes_sent, bytes_received, failures, retry_in_ms, last_error (null or
 * {code, message}), last_sync (UTC time or null), syncs. */
VS_API vs_code vs_replicator_status_json(vs_db* db, char** json, char** error);

#ifdef __cplusplus
}
#endif

#endif /* VISITSYNC_H */
