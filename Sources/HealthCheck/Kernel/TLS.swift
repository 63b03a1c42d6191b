#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import DaemonCore
import KeepalivedConfig

/// The client side of SSL_GET with the system's OpenSSL: one context for the process (the
/// global `SSL { }` block's CA, certificate and key when given), one session per connection on
/// the check's own non-blocking socket. Every OpenSSL pointer stays in this file.
public final class TLSContext: @unchecked Sendable {
    fileprivate let context: OpaquePointer

    /// Like keepalived, the server's certificate is verified only when a CA is configured.
    public init(settings: SSLSettings?) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSContext.error("SSL_CTX_new") }
        self.context = context
        if let password = settings?.password {
            // OpenSSL keeps the pointer: the password must outlive the context, which lives as long as the process.
            SSL_CTX_set_default_passwd_cb_userdata(context, strdup(password))
        }
        if let ca = settings?.ca {
            guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else { throw TLSContext.error("load CA \(ca)") }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        if let certificate = settings?.certificate {
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else { throw TLSContext.error("load certificate \(certificate)") }
        }
        if let key = settings?.key {
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else { throw TLSContext.error("load key \(key)") }
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// The oldest error OpenSSL queued, as text, and the queue cleared.
    static func error(_ what: String) -> SystemError {
        let code = ERR_get_error()
        ERR_clear_error()
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return SystemError(what, code: Int32(truncatingIfNeeded: code), detail: code == 0 ? "failed" : message)
    }
}

/// One TLS connection over a check's socket.
final class TLSSession {
    private let ssl: OpaquePointer

    init(context: TLSContext, descriptor: Int32, serverName: String?) throws {
        guard let ssl = SSL_new(context.context) else { throw TLSContext.error("SSL_new") }
        self.ssl = ssl
        SSL_set_fd(ssl, descriptor)
        if let serverName { _ = swiftkeepalived_ssl_set_sni(ssl, serverName) }
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
    }

    /// Sends the TLS close_notify (`tls_compliant`); one call, never waiting for the peer's.
    func sendCloseNotify() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    func handshake() -> IOResult {
        let result = SSL_do_handshake(ssl)
        return result == 1 ? .transferred(0) : outcome(result, doing: "TLS handshake")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        let result = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        return result > 0 ? .transferred(Int(result)) : outcome(result, doing: "TLS read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        let result = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
        return result > 0 ? .transferred(Int(result)) : outcome(result, doing: "TLS write")
    }

    private func outcome(_ result: Int32, doing what: String) -> IOResult {
        let savedErrno = errno
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            ERR_clear_error()
            // A peer that closes without close_notify (common for HTTP/1.0 servers) ends the body.
            if savedErrno == 0 { return .closed }
            return .failed(SystemError(what, errno: savedErrno).description)
        default:
            return .failed(TLSContext.error(what).description)
        }
    }
}

/// MD5 of a body as it streams in (OpenSSL's EVP interface).
final class MD5Hasher {
    private let context: OpaquePointer

    init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_md5(), nil)
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    func finish() -> MD5Digest {
        var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &bytes, &length)
        return MD5Digest(bytes: Array(bytes.prefix(16)))
    }
}
