# The layering rules, checked on the sources' #include lines. Dependencies point one way
# (tools -> transport -> engine, and tools -> engine), and this script checks four rules:
# the engine has no network, TLS or transport code; public headers name no SQLite, OpenSSL,
# cereal or Asio type (Asio only as io_context); session/ and wire/ do no I/O; the hub's logic
# reaches its storage only through hub::Backend. Run it with
#   cmake -DROOT=<source dir> -P tests/layering.cmake
# Fails (and lists every offending include) when a layer reaches past its place.

set(problems "")

# Every #include of the files under `dirs` matching `regex`, unless it also matches `allowed`.
function(forbid rule regex allowed)
  set(files "")
  foreach(dir IN LISTS ARGN)
    file(GLOB_RECURSE found "${ROOT}/${dir}/*.h" "${ROOT}/${dir}/*.cc")
    list(APPEND files ${found})
  endforeach()
  foreach(f IN LISTS files)
    file(STRINGS "${f}" includes REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS includes)
      if(line MATCHES "${regex}" AND (allowed STREQUAL "" OR NOT line MATCHES "${allowed}"))
        file(RELATIVE_PATH rel "${ROOT}" "${f}")
        set(problems "${problems}\n  ${rel}: ${line}  (${rule})")
      endif()
    endforeach()
  endforeach()
  set(problems "${problems}" PARENT_SCOPE)
endfunction()

# The engine knows nothing of sockets, TLS or the transport (libcrypto for SHA-256 is fine).
forbid("the engine has no network or transport code"
       "<boost/|<openssl/ssl\\.h>|<sys/socket\\.h>|<netinet/|<arpa/|<visitsync/transport/|\"(net|session|wire|tls)/"
       "" engine)
# Public headers name no SQLite, OpenSSL or cereal type; Asio only as an io_context.
forbid("public headers are free of SQLite, OpenSSL, cereal and Asio types"
       "<sqlite3\\.h>|<openssl/|<cereal/|<boost/" "<boost/asio/io_context\\.hpp>"
       engine/include transport/include)
# Sessions and the wire format are protocol logic: no I/O.
forbid("session/ and wire/ do no I/O"
       "<boost/asio|<openssl/|<sys/socket\\.h>|<netinet/|\"(net|tls)/" ""
       transport/src/session transport/src/wire)

# The hub's logic reaches its storage only through hub::Backend (engine/src/hub/backend.h):
# outside the sqlite_* files, engine/src/hub/ includes nothing of the store, the log or the
# merge; hub_store.cc names the SQLite backend once, to open it.
file(GLOB hub_logic "${ROOT}/engine/src/hub/*.h" "${ROOT}/engine/src/hub/*.cc")
foreach(f IN LISTS hub_logic)
  get_filename_component(name "${f}" NAME)
  if(name MATCHES "^sqlite_")
    continue()
  endif()
  file(STRINGS "${f}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(line MATCHES "<sqlite3\\.h>|\"(engine_impl\\.h|store/|changelog/|merge/)"
       OR (line MATCHES "hub/sqlite_backend\\.h" AND NOT name STREQUAL "hub_store.cc"))
      set(problems "${problems}\n  engine/src/hub/${name}: ${line}  (the hub's logic uses its storage through backend.h)")
    endif()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "layering: includes that break the layering rules:${problems}")
endif()
message(STATUS "layering: every include is where it belongs")
