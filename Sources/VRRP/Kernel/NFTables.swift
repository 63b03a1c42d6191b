#if canImport(Glibc)
import Glibc
#endif
import DaemonCore

/// nftables through libnftables (Debian's libnftables1, which the `nft` command uses), opened at
/// run time: commands in nft's own language, applied at once in this process, no child to wait for.
public final class NFTables: @unchecked Sendable {
    private typealias New = @convention(c) (UInt32) -> OpaquePointer?
    private typealias Free = @convention(c) (OpaquePointer?) -> Void
    private typealias Run = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    private typealias BufferOutput = @convention(c) (OpaquePointer?) -> Int32
    private typealias ReadBuffer = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?

    private let library: UnsafeMutableRawPointer
    private let context: OpaquePointer
    private let free: Free
    private let runCommands: Run
    private let errorText: ReadBuffer

    public init() throws {
        guard let library = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL) else {
            throw SystemError("dlopen(libnftables.so.1)", code: 0, detail: "install nftables (libnftables1)")
        }
        func symbol<T>(_ name: String, as _: T.Type) throws -> T {
            guard let address = dlsym(library, name) else { throw SystemError("dlsym(\(name))", code: 0, detail: "libnftables too old") }
            return unsafeBitCast(address, to: T.self)
        }
        do {
            let new = try symbol("nft_ctx_new", as: New.self)
            free = try symbol("nft_ctx_free", as: Free.self)
            runCommands = try symbol("nft_run_cmd_from_buffer", as: Run.self)
            errorText = try symbol("nft_ctx_get_error_buffer", as: ReadBuffer.self)
            let bufferErrors = try symbol("nft_ctx_buffer_error", as: BufferOutput.self)
            let bufferOutput = try symbol("nft_ctx_buffer_output", as: BufferOutput.self)
            guard let context = new(0) else { throw SystemError("nft_ctx_new", errno: ENOMEM) }
            // Messages come back to us instead of going to the daemon's stderr.
            _ = bufferErrors(context)
            _ = bufferOutput(context)
            self.context = context
            self.library = library
        } catch {
            dlclose(library)
            throw error
        }
    }

    deinit {
        free(context)
        dlclose(library)
    }

    /// Runs `commands` (one nft script, applied as one transaction); throws with nft's message.
    public func run(_ commands: String) throws {
        guard runCommands(context, commands) == 0 else {
            let message = errorText(context).map { String(cString: $0) } ?? ""
            throw SystemError("nft", code: 0, detail: message.split(separator: "\n").first.map(String.init) ?? "failed")
        }
    }
}
