// warren-delay: a delay line between two interfaces of one network namespace, for kernels without
// sch_netem. Every frame read on one interface is sent on the other after the configured delay
// (plus jitter, never reordering by itself); a share is sent at once (reorder), twice (duplicate)
// or with one bit flipped (corrupt). SIGHUP re-reads the configuration, in place: queued frames
// keep their schedule and no connection notices more than the change. It exits when either
// interface goes away (its namespace was deleted), on SIGTERM, or on any error it cannot handle;
// once it passes frames, it puts the port back on the bridge first (a stop is then as fast as a change).
//
// usage: warren-delay TAG NETNS_PATH PORT BRIDGE TWIN_BRIDGE_SIDE TWIN_OWN_SIDE CONFIG_FILE
//   TAG          the instance key, so `ps` (and leak checks) tell whose it is
//   NETNS_PATH   /run/netns/wr.* : the hub namespace, where the bridge and the port live
//   PORT         the namespace's port on BRIDGE; taken off the bridge once everything is ready
//   TWIN_*       a veth pair it creates (one end on BRIDGE, one its own) unless it exists
//   CONFIG_FILE  one line: delay_us jitter_us reorder_ppm duplicate_ppm corrupt_ppm
// Setting it up itself (netlink) spares the caller two `ip` processes. Prints "ready" on stdout
// once frames pass through it, then closes stdout.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME (sizeof(struct virtio_net_hdr) + 65536 + 64)
/** Frames and bytes held per direction at most: beyond, new frames are dropped, as a full router queue does. */
#define QUEUE_SLOTS 65536
#define QUEUE_BYTES (64u << 20)
#define MILLION 1000000u

struct config {
  uint64_t delay_us, jitter_us;
  uint32_t reorder_ppm, duplicate_ppm, corrupt_ppm;
};

struct frame {
  uint64_t due_ns;
  uint32_t len;
  unsigned char *data;
};

struct queue {
  struct frame slots[QUEUE_SLOTS];
  size_t head, count, bytes;
  uint64_t last_due;
};

static struct queue toward_b, toward_a;
static struct config cfg;
static void finish(void);
static const char *config_path;
static uint64_t rng;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t next_random(void) {
  // xorshift64*: plenty for choosing which packets to disturb.
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

static int chance(uint32_t ppm) {
  return ppm > 0 && next_random() % MILLION < ppm;
}

static int read_config(void) {
  FILE *f = fopen(config_path, "re");
  if (!f) return -1;
  struct config next;
  unsigned long long d, j;
  unsigned r, du, c;
  int n = fscanf(f, "%llu %llu %u %u %u", &d, &j, &r, &du, &c);
  fclose(f);
  if (n != 5 || d > 60000000ull || j > 60000000ull || r > MILLION || du > MILLION || c > MILLION) return -1;
  next.delay_us = d;
  next.jitter_us = j;
  next.reorder_ppm = r;
  next.duplicate_ppm = du;
  next.corrupt_ppm = c;
  cfg = next;
  return 0;
}

static int open_socket(const char *ifname, int *ifindex) {
  *ifindex = (int)if_nametoindex(ifname);
  if (*ifindex == 0) return -1;
  // Protocol 0: no hook until bind, so bind has none to take down (which waits out an RCU grace period, ~15 ms).
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1, size = 8 << 20;
  // The virtio header carries GSO and checksum offload state across, so large and offloaded frames pass intact.
  if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) return -1;
  // What we send on an interface is not read back from it.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) return -1;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  struct sockaddr_ll addr = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = *ifindex};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return -1;
  return fd;
}

static void send_frame(int fd, unsigned char *data, uint32_t len) {
  // A full send buffer drops the frame, as a full link would; a vanished interface ends us.
  if (send(fd, data, len, 0) < 0 && (errno == ENXIO || errno == ENODEV || errno == ENETDOWN)) finish();
}

static void corrupt(unsigned char *data, uint32_t len) {
  size_t hdr = sizeof(struct virtio_net_hdr) + 14;
  if (len <= hdr) return;
  // The checksum is then never completed for it: like a bit error on the wire, the receiver drops it.
  ((struct virtio_net_hdr *)data)->flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
  size_t at = hdr + next_random() % (len - hdr);
  data[at] ^= (unsigned char)(1u << (next_random() % 8));
}

static void enqueue(struct queue *q, unsigned char *data, uint32_t len, uint64_t now) {
  if (q->count == QUEUE_SLOTS || q->bytes + len > QUEUE_BYTES) return;
  uint64_t delay = cfg.delay_us * 1000u;
  if (cfg.jitter_us) {
    uint64_t span = cfg.jitter_us * 2000u + 1;
    int64_t offset = (int64_t)(next_random() % span) - (int64_t)(cfg.jitter_us * 1000u);
    delay = (int64_t)delay + offset > 0 ? (uint64_t)((int64_t)delay + offset) : 0;
  }
  uint64_t due = now + delay;
  // Jitter never overtakes: a frame leaves no earlier than the one before it.
  if (due < q->last_due) due = q->last_due;
  unsigned char *copy = malloc(len);
  if (!copy) return;
  memcpy(copy, data, len);
  struct frame *f = &q->slots[(q->head + q->count) % QUEUE_SLOTS];
  f->due_ns = due;
  f->len = len;
  f->data = copy;
  q->count++;
  q->bytes += len;
  q->last_due = due;
}

static void flush(struct queue *q, int fd, uint64_t now) {
  while (q->count && q->slots[q->head].due_ns <= now) {
    struct frame *f = &q->slots[q->head];
    send_frame(fd, f->data, f->len);
    q->bytes -= f->len;
    free(f->data);
    q->head = (q->head + 1) % QUEUE_SLOTS;
    q->count--;
  }
}

static void pass(int from, int to, struct queue *q, unsigned char *buffer) {
  for (;;) {
    ssize_t n = recv(from, buffer, MAX_FRAME, MSG_TRUNC);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      finish();
    }
    if ((size_t)n > MAX_FRAME || (size_t)n <= sizeof(struct virtio_net_hdr)) continue;
    uint32_t len = (uint32_t)n;
    uint64_t now = now_ns();
    if (chance(cfg.corrupt_ppm)) corrupt(buffer, len);
    int copies = chance(cfg.duplicate_ppm) ? 2 : 1;
    for (int i = 0; i < copies; i++) {
      if ((cfg.delay_us == 0 && cfg.jitter_us == 0 && q->count == 0) || chance(cfg.reorder_ppm)) send_frame(to, buffer, len);
      else enqueue(q, buffer, len, now);
    }
  }
}

struct request {
  struct nlmsghdr header;
  struct ifinfomsg link;
  char attributes[512];
};

static struct rtattr *attribute(struct nlmsghdr *n, unsigned short type, const void *data, size_t len) {
  struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(rta), data, len);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rta->rta_len);
  return rta;
}

static void close_nest(struct nlmsghdr *n, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)n + NLMSG_ALIGN(n->nlmsg_len) - (char *)nest);
}

/** Sends one rtnetlink request and returns its acknowledgement: 0, or -errno. */
static int ask(int fd, struct nlmsghdr *n) {
  static unsigned seq;
  n->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  n->nlmsg_seq = ++seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, n, n->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -errno;
  char reply[4096];
  ssize_t len = recv(fd, reply, sizeof reply, 0);
  struct nlmsghdr *h = (struct nlmsghdr *)reply;
  if (len < 0 || !NLMSG_OK(h, (size_t)len) || h->nlmsg_type != NLMSG_ERROR) return -EIO;
  return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

/** `ip link add BRIDGE_SIDE master BRIDGE up type veth peer name OWN_SIDE`; -EEXIST when it is there. */
static int create_twin(int fd, const char *bridge_side, const char *own_side, int bridge) {
  struct request r = {0};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof r.link);
  r.header.nlmsg_type = RTM_NEWLINK;
  r.header.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  r.link.ifi_family = AF_UNSPEC;
  r.link.ifi_flags = r.link.ifi_change = IFF_UP;
  attribute(&r.header, IFLA_IFNAME, bridge_side, strlen(bridge_side) + 1);
  attribute(&r.header, IFLA_MASTER, &bridge, sizeof bridge);
  struct rtattr *info = attribute(&r.header, IFLA_LINKINFO, NULL, 0);
  attribute(&r.header, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = attribute(&r.header, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = attribute(&r.header, VETH_INFO_PEER, NULL, 0);
  struct ifinfomsg *peer_link = (struct ifinfomsg *)((char *)&r.header + r.header.nlmsg_len);
  memset(peer_link, 0, sizeof *peer_link);
  // The peer is brought up afterwards (set_state): up in this request, it would find no peer of its own yet (ENOTCONN).
  peer_link->ifi_family = AF_UNSPEC;
  r.header.nlmsg_len += sizeof *peer_link;
  attribute(&r.header, IFLA_IFNAME, own_side, strlen(own_side) + 1);
  close_nest(&r.header, peer);
  close_nest(&r.header, data);
  close_nest(&r.header, info);
  int error = ask(fd, &r.header);
  return error;
}

/** `ip link set INDEX up` (or `down`). */
static int set_state(int fd, int index, int up) {
  struct request r = {0};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof r.link);
  r.header.nlmsg_type = RTM_NEWLINK;
  r.link.ifi_family = AF_UNSPEC;
  r.link.ifi_index = index;
  r.link.ifi_change = IFF_UP;
  r.link.ifi_flags = up ? IFF_UP : 0;
  return index ? ask(fd, &r.header) : -ENODEV;
}

/** `ip link set PORT master MASTER`; MASTER 0 is `nomaster`. */
static int set_master(int fd, int port, int master) {
  struct request r = {0};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof r.link);
  r.header.nlmsg_type = RTM_NEWLINK;
  r.link.ifi_family = AF_UNSPEC;
  r.link.ifi_index = port;
  attribute(&r.header, IFLA_MASTER, &master, sizeof master);
  return ask(fd, &r.header);
}

/** Where the port goes back to when we stop: set once it is off the bridge. */
static int rt = -1, port_index, bridge_index, twin_index;

/**
 * Stops passing frames: the port back on its bridge, then the twin's bridge side down, which makes
 * the bridge forget the addresses it learned there (else it would send them into the twin until
 * the twin is deleted). Either may be gone already: then nothing to do. Then exit.
 */
static void finish(void) {
  if (rt >= 0) set_master(rt, port_index, bridge_index), set_state(rt, twin_index, 0);
  exit(0);
}

static int valid_ifname(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len >= IFNAMSIZ) return 0;
  for (const char *c = name; *c; c++) if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) return 0;
  return 1;
}

static int timeout_ms(uint64_t now) {
  uint64_t next = UINT64_MAX;
  if (toward_b.count) next = toward_b.slots[toward_b.head].due_ns;
  if (toward_a.count && toward_a.slots[toward_a.head].due_ns < next) next = toward_a.slots[toward_a.head].due_ns;
  if (next == UINT64_MAX) return 1000;
  if (next <= now) return 0;
  uint64_t ms = (next - now + 999999u) / 1000000u;
  return ms > 1000 ? 1000 : (int)ms;
}

int main(int argc, char **argv) {
  if (argc != 8 || strncmp(argv[2], "/run/netns/wr.", 14) != 0 || strstr(argv[2], "/..") || !valid_ifname(argv[3]) || !valid_ifname(argv[4]) || !valid_ifname(argv[5]) || !valid_ifname(argv[6])) {
    fprintf(stderr, "usage: warren-delay TAG /run/netns/wr.NAME PORT BRIDGE TWIN_BRIDGE_SIDE TWIN_OWN_SIDE CONFIG_FILE\n");
    return 2;
  }
  const char *port_name = argv[3], *own_name = argv[6];
  config_path = argv[7];
  if (getrandom(&rng, sizeof rng, 0) != sizeof rng || rng == 0) rng = (uint64_t)now_ns() | 1;
  if (read_config() < 0) {
    fprintf(stderr, "warren-delay: unreadable configuration %s\n", config_path);
    return 1;
  }
  int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    perror(argv[2]);
    return 1;
  }
  close(ns);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sig = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  int netlink = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int bridge = (int)if_nametoindex(argv[4]);
  int error = netlink < 0 || bridge == 0 ? -ENODEV : create_twin(netlink, argv[5], own_name, bridge);
  if (error == -EEXIST) {
    // Left by a delay line stopped without the twin's deletion (finish() leaves it down): on the bridge and up again.
    int twin = (int)if_nametoindex(argv[5]);
    error = set_master(netlink, twin, bridge);
    if (!error) error = set_state(netlink, twin, 1);
  }
  if (!error) error = set_state(netlink, (int)if_nametoindex(own_name), 1);
  if (error) {
    fprintf(stderr, "warren-delay: creating %s/%s on %s: %s\n", argv[5], own_name, argv[4], strerror(-error));
    return 1;
  }
  int index_a, index_b;
  int a = open_socket(port_name, &index_a), b = open_socket(own_name, &index_b);
  if (sig < 0 || a < 0 || b < 0) {
    perror("warren-delay: socket");
    return 1;
  }
  // Only now off the bridge: from here on every frame of the namespace passes this delay line.
  error = set_master(netlink, index_a, 0);
  if (error) {
    fprintf(stderr, "warren-delay: taking %s off the bridge: %s\n", port_name, strerror(-error));
    return 1;
  }
  // Kept open: finish() puts the port back with it.
  rt = netlink, port_index = index_a, bridge_index = bridge, twin_index = (int)if_nametoindex(argv[5]);
  unsigned char *buffer = malloc(MAX_FRAME);
  if (!buffer) finish();
  setsid();
  printf("ready\n");
  fflush(stdout);
  int devnull = open("/dev/null", O_RDWR);
  dup2(devnull, 0), dup2(devnull, 1), dup2(devnull, 2);
  struct pollfd fds[3] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}, {.fd = sig, .events = POLLIN}};
  uint64_t checked = now_ns();
  for (;;) {
    uint64_t now = now_ns();
    if (poll(fds, 3, timeout_ms(now)) < 0 && errno != EINTR) finish();
    for (int i = 0; i < 2; i++) if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) finish();
    if (fds[2].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sig, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo != SIGHUP) finish();
        read_config();
      }
    }
    if (fds[0].revents & POLLIN) pass(a, b, &toward_b, buffer);
    if (fds[1].revents & POLLIN) pass(b, a, &toward_a, buffer);
    now = now_ns();
    flush(&toward_b, b, now);
    flush(&toward_a, a, now);
    // Packet sockets may miss an interface's removal in some kernels: look once a second.
    if (now - checked > 1000000000u) {
      checked = now;
      if ((int)if_nametoindex(port_name) != index_a || (int)if_nametoindex(own_name) != index_b) finish();
    }
  }
}
