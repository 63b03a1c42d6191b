// The system's OpenSSL: TLS for SSL_GET and genhash, MD5 for digests.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

// Macros Swift does not import.
static inline long swiftkeepalived_ssl_set_sni(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
