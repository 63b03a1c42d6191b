// PCRE2, the regex library keepalived's HTTP_GET regex uses: the 8-bit code unit API.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// PCRE2_ZERO_TERMINATED is a cast macro Swift does not import.
static inline size_t swiftkeepalived_pcre2_zero_terminated(void) { return PCRE2_ZERO_TERMINATED; }
