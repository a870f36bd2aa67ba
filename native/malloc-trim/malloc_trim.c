/*
 * malloc_trim: gives the free memory of glibc's malloc arenas back to the system
 * (src/lib/malloc-trim.ts). glibc returns free memory on its own only from the top of an arena
 * (past MALLOC_TRIM_THRESHOLD_); free chunks in the middle of it stay resident until
 * malloc_trim(0), which madvises their whole pages away (bench/README.md, "Memory while scraped").
 * trim() returns true when some memory was given back. N-API: loads in any thread.
 */
#include <malloc.h>
#include <node_api.h>

static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if (napi_get_boolean(env, malloc_trim(0) != 0, &out) != napi_ok) return NULL;
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, Trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
