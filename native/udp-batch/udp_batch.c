/*
 * udp_batch: a UDP socket read in batches, for the flow collector (src/net/udp-batch.ts).
 *
 * The socket (IPv4, or IPv6 dual-stack) is watched with uv_poll on the calling thread's loop
 * (napi_get_uv_event_loop: N-API, so it loads in any thread). When it is readable, recvmmsg
 * drains up to `batch` datagrams at a time into one preallocated ArrayBuffer (one 64 KiB slot
 * per datagram: no UDP payload is truncated), and JS is called once per batch with the count;
 * per datagram, meta holds [length, source index]. Sources are kept in a table of at most
 * NAMES_MAX addresses: a batch that brings new ones passes their text (fresh) and the index of
 * the first (base); base 0 with fresh means the table was started over. The buffer is reused by
 * the next batch, so the callback must be done with it when it returns.
 *
 * The receive buffer is set with SO_RCVBUFFORCE (past net.core.rmem_max, needs CAP_NET_ADMIN),
 * else SO_RCVBUF; SO_RXQ_OVFL makes the kernel attach its drop count to each datagram, read by
 * drops(). No SO_REUSEADDR/SO_REUSEPORT: the address and port are this socket's alone.
 * Receive errors (recvmmsg failing other than EAGAIN, or a pending socket error, after which the
 * poll is started again) are counted in stats().errors, the last one's errno in stats().errno.
 *
 * Holding (holdMs > 0): once a readable event has drained the socket, the poll is stopped and
 * the socket is read again holdMs later by a timer, which keeps reading every holdMs while it
 * finds datagrams and drains the socket, and goes back to the poll when it finds none or leaves
 * some. At tens of thousands of
 * datagrams per second the thread then wakes a few hundred times per second with tens of
 * datagrams each, instead of once for every few datagrams (each wake-up costs a context switch,
 * epoll and a call into JS); a datagram waits at most about holdMs in the socket's buffer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define SLOT_BYTES 65536
#define MAX_BATCH 1024
#define NAMES_MAX 1024
/* batches read per readable event before yielding to the loop (level-triggered: it comes back) */
#define ROUNDS_PER_EVENT 16
#define CTRL_BYTES CMSG_SPACE(sizeof(uint32_t))

typedef struct {
  napi_env env;
  int fd;
  uv_poll_t poll;
  uv_timer_t hold;  /* reads the socket holdMs after the last read (hold_ms > 0) */
  unsigned hold_ms;
  int closing;      /* close() called: poll and timer stopped, handles closing */
  int handles_open; /* handles whose uv_close callback has not run */
  int finalized;    /* the JS external is gone */
  unsigned batch;
  uint8_t *data;
  int32_t *meta;
  napi_ref data_ref, meta_ref, cb_ref;
  napi_async_context actx;
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_in6 from[MAX_BATCH];
  char ctrl[MAX_BATCH][CTRL_BYTES];
  uint32_t drops;
  double datagrams, batches;
  /* receive errors other than "nothing to read" (recvmmsg, or the poll reporting an error) */
  double errors;
  int last_errno;
  struct in6_addr names[NAMES_MAX];
  int name_count;
  int last_name;
} rx_t;

static void throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  char code[32];
  snprintf(code, sizeof code, "E%d", err);
  napi_throw_error(env, code, msg);
}

#define CHECK(env, call)                                      \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      const napi_extended_error_info *info_;                  \
      napi_get_last_error_info((env), &info_);                \
      bool pending_;                                          \
      napi_is_exception_pending((env), &pending_);            \
      if (!pending_) napi_throw_error((env), NULL, info_->error_message ? info_->error_message : "napi call failed"); \
      return NULL;                                            \
    }                                                         \
  } while (0)

/* o[name] = x (a JS number) */
static napi_status set_number(napi_env env, napi_value o, const char *name, double x) {
  napi_value v;
  napi_status st = napi_create_double(env, x, &v);
  return st == napi_ok ? napi_set_named_property(env, o, name, v) : st;
}

static void maybe_free(rx_t *rx) {
  if (rx->handles_open == 0 && rx->finalized) free(rx);
}

static void on_handle_closed(uv_handle_t *h) {
  rx_t *rx = h->data;
  rx->handles_open--;
  maybe_free(rx);
}

/* stops reading and drops the references to JS values; idempotent */
static void rx_close(rx_t *rx) {
  if (rx->closing) return;
  rx->closing = 1;
  uv_poll_stop(&rx->poll);
  uv_timer_stop(&rx->hold);
  uv_close((uv_handle_t *)&rx->poll, on_handle_closed);
  uv_close((uv_handle_t *)&rx->hold, on_handle_closed);
  /* uv_close has taken the descriptor out of the loop's epoll set: the port is free at once */
  close(rx->fd);
  napi_delete_reference(rx->env, rx->cb_ref);
  napi_delete_reference(rx->env, rx->data_ref);
  napi_delete_reference(rx->env, rx->meta_ref);
  napi_async_destroy(rx->env, rx->actx);
}

static void on_env_cleanup(void *arg) { rx_close(arg); }

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  rx_t *rx = data;
  napi_remove_env_cleanup_hook(env, on_env_cleanup, rx);
  rx_close(rx);
  rx->finalized = 1;
  maybe_free(rx);
}

/* the table index of the source address, adding it (and its text to fresh) when new */
static int name_index(rx_t *rx, const struct sockaddr_in6 *sa, napi_value fresh, uint32_t *fresh_len) {
  if (rx->last_name < rx->name_count && memcmp(&rx->names[rx->last_name], &sa->sin6_addr, 16) == 0) return rx->last_name;
  for (int i = 0; i < rx->name_count; i++) {
    if (memcmp(&rx->names[i], &sa->sin6_addr, 16) == 0) return rx->last_name = i;
  }
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
    inet_ntop(AF_INET, &sa->sin6_addr.s6_addr[12], text, sizeof text);
  } else {
    inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
    char ifname[IF_NAMESIZE];
    if (sa->sin6_scope_id != 0 && if_indextoname(sa->sin6_scope_id, ifname) != NULL) {
      size_t n = strlen(text);
      snprintf(text + n, sizeof text - n, "%%%s", ifname);
    }
  }
  napi_value s;
  napi_create_string_utf8(rx->env, text, NAPI_AUTO_LENGTH, &s);
  napi_set_element(rx->env, fresh, (*fresh_len)++, s);
  memcpy(&rx->names[rx->name_count], &sa->sin6_addr, 16);
  return rx->last_name = rx->name_count++;
}

/* IPv4 sources as v4-mapped IPv6, so that one table holds both */
static void as_v6(struct sockaddr_in6 *sa) {
  if (sa->sin6_family != AF_INET) return;
  struct sockaddr_in v4;
  memcpy(&v4, sa, sizeof v4);
  memset(sa, 0, sizeof *sa);
  sa->sin6_family = AF_INET6;
  sa->sin6_port = v4.sin_port;
  sa->sin6_addr.s6_addr[10] = 0xff;
  sa->sin6_addr.s6_addr[11] = 0xff;
  memcpy(&sa->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
}

static void reset_headers(rx_t *rx, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    rx->msgs[i].msg_hdr.msg_namelen = sizeof rx->from[i];
    rx->msgs[i].msg_hdr.msg_controllen = CTRL_BYTES;
    rx->msgs[i].msg_hdr.msg_flags = 0;
  }
}

/* one batch handed to JS; returns the number of datagrams read, 0 when none */
static int read_batch(rx_t *rx) {
  int n;
  do n = recvmmsg(rx->fd, rx->msgs, rx->batch, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      rx->last_errno = errno;
      rx->errors++;
    }
    return 0;
  }
  napi_env env = rx->env;
  napi_value fresh;
  napi_create_array(env, &fresh);
  uint32_t fresh_len = 0;
  if (rx->name_count + n > NAMES_MAX) rx->name_count = 0;
  int base = rx->name_count;
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &rx->msgs[i].msg_hdr;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(&rx->drops, CMSG_DATA(c), sizeof rx->drops);
    }
    as_v6(&rx->from[i]);
    rx->meta[2 * i] = (int32_t)rx->msgs[i].msg_len;
    rx->meta[2 * i + 1] = name_index(rx, &rx->from[i], fresh, &fresh_len);
  }
  reset_headers(rx, (unsigned)n);
  rx->datagrams += n;
  rx->batches++;
  napi_value argv[3], cb, recv, result;
  napi_create_uint32(env, (uint32_t)n, &argv[0]);
  if (fresh_len > 0) argv[1] = fresh;
  else napi_get_undefined(env, &argv[1]);
  napi_create_int32(env, base, &argv[2]);
  napi_get_reference_value(env, rx->cb_ref, &cb);
  napi_get_global(env, &recv);
  if (napi_make_callback(env, rx->actx, recv, cb, 3, argv, &result) != napi_ok) {
    bool pending;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  return n;
}

static void on_readable(uv_poll_t *h, int status, int events);

/*
 * The socket has a pending error (POLLERR: sk_err, or an error queue, which only IP_RECVERR
 * fills): libuv has stopped the poll and reports UV_EBADF. Count it, take the error (SO_ERROR
 * clears sk_err) and drain the error queue, then poll again, so that the socket keeps being read.
 */
static void recover(rx_t *rx) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(rx->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) rx->last_errno = err;
  rx->errors++;
  char buf[1], ctrl[512];
  for (int i = 0; i < 1024; i++) {
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctrl;
    m.msg_controllen = sizeof ctrl;
    if (recvmsg(rx->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
  }
  uv_poll_start(&rx->poll, UV_READABLE, on_readable);
}

/* up to ROUNDS_PER_EVENT batches; returns 0 when nothing was read, 1 when the socket was drained, 2 when datagrams may be left */
static int drain(rx_t *rx) {
  int state = 2, total = 0;
  napi_handle_scope scope;
  napi_open_handle_scope(rx->env, &scope);
  for (int round = 0; round < ROUNDS_PER_EVENT && !rx->closing; round++) {
    int n = read_batch(rx);
    total += n;
    if (n < (int)rx->batch) {
      state = total > 0 ? 1 : 0;
      break;
    }
  }
  napi_close_handle_scope(rx->env, scope);
  return state;
}

/*
 * Found datagrams and drained: read again holdMs later. Found none, or left some: back to the
 * poll (with datagrams left it fires in the loop's next poll phase; a 0 ms timer instead would
 * run again in the same timers phase, before the loop's other I/O, such as worker messages).
 */
static void on_hold(uv_timer_t *t) {
  rx_t *rx = t->data;
  int state = drain(rx);
  if (rx->closing) return;
  if (state == 1) uv_timer_start(&rx->hold, on_hold, rx->hold_ms, 0);
  else uv_poll_start(&rx->poll, UV_READABLE, on_readable);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  rx_t *rx = h->data;
  if (status < 0) {
    if (!rx->closing) recover(rx);
    return;
  }
  /* level-triggered: when datagrams are left, the poll comes back at once */
  if (drain(rx) == 1 && rx->hold_ms > 0 && !rx->closing) {
    uv_poll_stop(&rx->poll);
    uv_timer_start(&rx->hold, on_hold, rx->hold_ms, 0);
  }
}

static rx_t *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value handle = NULL;
  size_t want = *argc;
  napi_value all[8];
  size_t got = 8;
  if (napi_get_cb_info(env, info, &got, all, NULL, NULL) != napi_ok || got < 1) {
    napi_throw_type_error(env, NULL, "expected a handle");
    return NULL;
  }
  handle = all[0];
  for (size_t i = 0; i < want && i + 1 < got; i++) argv[i] = all[i + 1];
  *argc = got - 1;
  void *p;
  if (napi_get_value_external(env, handle, &p) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a handle");
    return NULL;
  }
  return p;
}

static int parse_address(const char *text, uint32_t port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *len = sizeof *v4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    *len = sizeof *v6;
    return AF_INET6;
  }
  return -1;
}

/* open(address, port, receiveBufferBytes, batch, onBatch[, holdMs]) → {handle, data, meta, port, receiveBufferBytes, forced} */
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "open(address, port, receiveBufferBytes, batch, onBatch)");
    return NULL;
  }
  char address[INET6_ADDRSTRLEN + 1];
  size_t alen;
  uint32_t port, batch, hold_ms = 0;
  int32_t rcvbuf;
  CHECK(env, napi_get_value_string_utf8(env, argv[0], address, sizeof address, &alen));
  CHECK(env, napi_get_value_uint32(env, argv[1], &port));
  CHECK(env, napi_get_value_int32(env, argv[2], &rcvbuf));
  CHECK(env, napi_get_value_uint32(env, argv[3], &batch));
  if (argc > 5) CHECK(env, napi_get_value_uint32(env, argv[5], &hold_ms));
  if (port > 65535 || batch < 1 || batch > MAX_BATCH || hold_ms > 1000) {
    napi_throw_range_error(env, NULL, "port must be 0-65535, batch 1-1024 and holdMs 0-1000");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  int family = parse_address(address, port, &ss, &sslen);
  if (family < 0) {
    napi_throw_type_error(env, NULL, "not an IPv4 or IPv6 address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  int one = 1, zero = 0, forced = 1;
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    forced = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0 || bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
    int err = errno;
    close(fd);
    char what[INET6_ADDRSTRLEN + 32];
    snprintf(what, sizeof what, family == AF_INET6 ? "bind [%s]:%u" : "bind %s:%u", address, port);
    throw_errno(env, what, err);
    return NULL;
  }
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  uint32_t bound_port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
  int granted = 0;
  socklen_t glen = sizeof granted;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &glen);

  rx_t *rx = calloc(1, sizeof *rx);
  if (rx == NULL) {
    close(fd);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  rx->env = env;
  rx->fd = fd;
  rx->batch = batch;
  rx->hold_ms = hold_ms;
  napi_value data_ab, meta_ab, meta, handle, result, v, name;
  void *mem;
  if (napi_create_arraybuffer(env, (size_t)batch * SLOT_BYTES, &mem, &data_ab) != napi_ok) {
    close(fd);
    free(rx);
    return NULL;
  }
  rx->data = mem;
  CHECK(env, napi_create_arraybuffer(env, (size_t)batch * 2 * sizeof(int32_t), &mem, &meta_ab));
  rx->meta = mem;
  CHECK(env, napi_create_typedarray(env, napi_int32_array, (size_t)batch * 2, meta_ab, 0, &meta));
  for (unsigned i = 0; i < batch; i++) {
    rx->iov[i].iov_base = rx->data + (size_t)i * SLOT_BYTES;
    rx->iov[i].iov_len = SLOT_BYTES;
    struct msghdr *h = &rx->msgs[i].msg_hdr;
    h->msg_name = &rx->from[i];
    h->msg_iov = &rx->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = rx->ctrl[i];
  }
  reset_headers(rx, batch);
  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  CHECK(env, napi_create_reference(env, data_ab, 1, &rx->data_ref));
  CHECK(env, napi_create_reference(env, meta, 1, &rx->meta_ref));
  CHECK(env, napi_create_reference(env, argv[4], 1, &rx->cb_ref));
  CHECK(env, napi_create_string_utf8(env, "wireprobe:udp-batch", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_async_init(env, NULL, name, &rx->actx));
  uv_poll_init_socket(loop, &rx->poll, fd);
  rx->poll.data = rx;
  uv_timer_init(loop, &rx->hold);
  rx->hold.data = rx;
  rx->handles_open = 2;
  uv_poll_start(&rx->poll, UV_READABLE, on_readable);
  CHECK(env, napi_create_external(env, rx, on_finalize, NULL, &handle));
  CHECK(env, napi_add_env_cleanup_hook(env, on_env_cleanup, rx));

  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_set_named_property(env, result, "handle", handle));
  CHECK(env, napi_set_named_property(env, result, "data", data_ab));
  CHECK(env, napi_set_named_property(env, result, "meta", meta));
  CHECK(env, set_number(env, result, "port", bound_port));
  CHECK(env, set_number(env, result, "receiveBufferBytes", granted));
  CHECK(env, napi_get_boolean(env, forced, &v));
  CHECK(env, napi_set_named_property(env, result, "forced", v));
  return result;
}

/* stats(handle) → {drops, datagrams, batches, errors, errno} */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  rx_t *rx = unwrap(env, info, &argc, NULL);
  if (rx == NULL) return NULL;
  napi_value o;
  CHECK(env, napi_create_object(env, &o));
  CHECK(env, set_number(env, o, "drops", rx->drops));
  CHECK(env, set_number(env, o, "datagrams", rx->datagrams));
  CHECK(env, set_number(env, o, "batches", rx->batches));
  CHECK(env, set_number(env, o, "errors", rx->errors));
  CHECK(env, set_number(env, o, "errno", rx->last_errno));
  return o;
}

/* close(handle): stops reading and closes the socket */
static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  rx_t *rx = unwrap(env, info, &argc, NULL);
  if (rx == NULL) return NULL;
  rx_close(rx);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
    {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
