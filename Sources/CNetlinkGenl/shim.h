// libnl-genl-3 and the kernel's IPVS generic-netlink interface.
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/ip_vs.h>
