// Linux networking headers the Glibc module does not bring: packet sockets, netlink messages,
// interface flags and ARP, and epoll and timerfd for the checkers.
#include <netpacket/packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/eventfd.h>

// The kernel's process connector (track_process), and setns to reach it from a network namespace.
#include <linux/connector.h>
#include <linux/cn_proc.h>
#include <sched.h>
int setns(int fd, int nstype);
static const int swiftkeepalived_clone_newnet = 0x40000000;  // CLONE_NEWNET, a macro behind _GNU_SOURCE

// accept4 (non-blocking, close-on-exec in one call) for the metrics server; behind _GNU_SOURCE.
#include <sys/socket.h>
int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

// The calling thread's id, for per-thread settings (nice values); SYS_gettid is a macro.
#include <sys/syscall.h>
#include <unistd.h>
static inline int swiftkeepalived_gettid(void) { return (int)syscall(SYS_gettid); }

// Names the calling thread (ps, top -H); prctl is variadic, which Swift cannot call.
#include <sys/prctl.h>
static inline int swiftkeepalived_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

// An anonymous in-memory file for answers sent with sendfile; memfd_create is behind _GNU_SOURCE.
#include <sys/sendfile.h>
#include <linux/memfd.h>
int memfd_create(const char *name, unsigned int flags);

// recvmsg with the kernel's receive time (SO_TIMESTAMPNS, CLOCK_REALTIME): the CMSG_* accessors
// and SO_TIMESTAMPNS itself are macros Swift cannot use. A packet without the stamp gets {0, 0}.
#include <string.h>
#include <sys/uio.h>
#include <time.h>
static inline int swiftkeepalived_enable_receive_timestamps(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}
static inline long swiftkeepalived_receive_stamped(int fd, void *buffer, size_t length, struct timespec *stamp) {
    struct iovec vector = { buffer, length };
    union { char bytes[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    stamp->tv_sec = 0;
    stamp->tv_nsec = 0;
    long count = recvmsg(fd, &message, 0);
    if (count < 0) return count;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_TIMESTAMPNS && header->cmsg_len >= CMSG_LEN(sizeof *stamp))
            memcpy(stamp, CMSG_DATA(header), sizeof *stamp);
    }
    return count;
}

// IPv6 VRRP: adverts are sent with their source and interface in IPV6_PKTINFO, and received with
// their destination (IPV6_PKTINFO), hop limit (IPV6_HOPLIMIT) and receive time. glibc hides
// struct in6_pktinfo behind _GNU_SOURCE; this is the same layout (RFC 3542).
struct swiftkeepalived_in6_pktinfo { struct in6_addr address; unsigned int ifindex; };
static inline long swiftkeepalived_send6(int fd, const void *buffer, size_t length, const struct sockaddr_in6 *to,
                                         const struct in6_addr *source, unsigned int ifindex) {
    struct iovec vector = { (void *)buffer, length };
    union { char bytes[CMSG_SPACE(sizeof(struct swiftkeepalived_in6_pktinfo))]; struct cmsghdr align; } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    memset(&control, 0, sizeof control);
    message.msg_name = (void *)to;
    message.msg_namelen = sizeof *to;
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = IPPROTO_IPV6;
    header->cmsg_type = IPV6_PKTINFO;
    header->cmsg_len = CMSG_LEN(sizeof(struct swiftkeepalived_in6_pktinfo));
    struct swiftkeepalived_in6_pktinfo info = { *source, ifindex };
    memcpy(CMSG_DATA(header), &info, sizeof info);
    return sendmsg(fd, &message, 0);
}
static inline long swiftkeepalived_receive6(int fd, void *buffer, size_t length, struct sockaddr_in6 *from,
                                            struct in6_addr *destination, int *hop_limit, struct timespec *stamp) {
    struct iovec vector = { buffer, length };
    union {
        char bytes[CMSG_SPACE(sizeof(struct swiftkeepalived_in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = from;
    message.msg_namelen = sizeof *from;
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    memset(destination, 0, sizeof *destination);
    *hop_limit = -1;
    stamp->tv_sec = 0;
    stamp->tv_nsec = 0;
    long count = recvmsg(fd, &message, 0);
    if (count < 0) return count;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_PKTINFO
            && header->cmsg_len >= CMSG_LEN(sizeof(struct swiftkeepalived_in6_pktinfo))) {
            struct swiftkeepalived_in6_pktinfo info;
            memcpy(&info, CMSG_DATA(header), sizeof info);
            *destination = info.address;
        } else if (header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_HOPLIMIT && header->cmsg_len >= CMSG_LEN(sizeof(int))) {
            memcpy(hop_limit, CMSG_DATA(header), sizeof(int));
        } else if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_TIMESTAMPNS && header->cmsg_len >= CMSG_LEN(sizeof *stamp)) {
            memcpy(stamp, CMSG_DATA(header), sizeof *stamp);
        }
    }
    return count;
}
