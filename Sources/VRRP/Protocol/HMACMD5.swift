import COpenSSL

/// HMAC-MD5 (RFC 2104) from the system's OpenSSL: the only call into it for VRRP.
enum HMACMD5 {
    static func digest(_ bytes: [UInt8], key: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = key.withUnsafeBytes { keyBytes in
            bytes.withUnsafeBytes { data in
                HMAC(EVP_md5(), keyBytes.baseAddress, Int32(keyBytes.count), data.baseAddress?.assumingMemoryBound(to: UInt8.self),
                     data.count, &digest, &length)
            }
        }
        return Array(digest.prefix(Int(length)))
    }
}
