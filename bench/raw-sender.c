/*
 * The kernel's own limit for raw-socket ICMP echo sends, for bench/physical-limit.ts: one raw
 * socket (IPPROTO_RAW, IP header included, like wireprobe's), echo requests to COUNT addresses
 * from 198.19.0.1 on (skipping .0 and .255), sent with sendmmsg() in batches of BATCH, as fast as
 * the kernel takes them, for SECONDS. Prints "sent N errors E seconds S". Bounded by SECONDS.
 *   raw-sender SECONDS COUNT BATCH
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT 36 /* IPv4 20 + ICMP 8 + 8 bytes of payload */
#define MAXB 1024

static uint16_t csum(const uint8_t *p, int n) {
  uint32_t s = 0;
  for (int i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) s += (uint32_t)p[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: raw-sender SECONDS COUNT BATCH\n");
    return 2;
  }
  double seconds = atof(argv[1]);
  int count = atoi(argv[2]), batch = atoi(argv[3]);
  if (seconds <= 0 || seconds > 600 || count < 1 || count > 65000 || batch < 1 || batch > MAXB) {
    fprintf(stderr, "raw-sender: out of range\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  static uint8_t pkts[MAXB][PKT];
  static struct sockaddr_in dst[MAXB];
  static struct iovec iov[MAXB];
  static struct mmsghdr msg[MAXB];
  unsigned long sent = 0, errors = 0, seq = 0;
  uint16_t id = (uint16_t)(getpid() & 0xffff);
  double t0 = now(), end = t0 + seconds;
  while (now() < end) {
    for (int i = 0; i < batch; i++, seq++) {
      int k = (int)(seq % (unsigned long)count);
      uint32_t host = 1 + (uint32_t)(k / 254) * 256 + (uint32_t)(k % 254); /* 198.19.x.1..254 */
      uint32_t daddr = htonl((198u << 24) | (19u << 16) | host);
      uint8_t *p = pkts[i];
      memset(p, 0, PKT);
      p[0] = 0x45;
      p[2] = 0;
      p[3] = PKT;
      p[6] = 0x40; /* DF */
      p[8] = 64;
      p[9] = 1;
      /* source 0.0.0.0: the kernel fills in the address of the route (and the IP checksum) */
      memcpy(p + 16, &daddr, 4);
      p[20] = 8; /* echo request */
      p[24] = (uint8_t)(id >> 8);
      p[25] = (uint8_t)id;
      p[26] = (uint8_t)(seq >> 8);
      p[27] = (uint8_t)seq;
      uint16_t c = csum(p + 20, PKT - 20);
      p[22] = (uint8_t)(c >> 8);
      p[23] = (uint8_t)c;
      dst[i].sin_family = AF_INET;
      dst[i].sin_addr.s_addr = daddr;
      iov[i].iov_base = p;
      iov[i].iov_len = PKT;
      memset(&msg[i], 0, sizeof msg[i]);
      msg[i].msg_hdr.msg_name = &dst[i];
      msg[i].msg_hdr.msg_namelen = sizeof dst[i];
      msg[i].msg_hdr.msg_iov = &iov[i];
      msg[i].msg_hdr.msg_iovlen = 1;
    }
    int done = 0;
    while (done < batch) {
      int r = sendmmsg(fd, msg + done, (unsigned)(batch - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        errors++;
        done++; /* skip the message the kernel refused */
      } else {
        sent += (unsigned long)r;
        done += r;
      }
    }
  }
  printf("sent %lu errors %lu seconds %.3f\n", sent, errors, now() - t0);
  close(fd);
  return 0;
}
