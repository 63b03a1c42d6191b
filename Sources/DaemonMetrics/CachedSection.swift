/// A part of /metrics written from many alike subjects (virtual servers with their real
/// servers, checkers, kernel services), in blocks of `blockSize`. A block whose subjects equal
/// those of the last render keeps its text and its compressed pieces: a scrape of 21,000 real
/// servers of which none changed writes and compresses nothing again, one where a real server
/// went down redoes one block.
struct CachedSection<Subject: Equatable> {
    static var blockSize: Int { 64 }

    private struct Block {
        /// The block's samples of each family it wrote, in the order written.
        let families: [(text: ExpositionWriter.FamilyText, piece: DeflatedPiece)]
    }

    private var subjects: [Subject] = []
    private var blocks: [Block] = []

    /// Brings the blocks up to `fresh`, writing with `render` only those whose subjects changed.
    mutating func update(_ fresh: [Subject], deflater: Deflater, render: (ArraySlice<Subject>, inout ExpositionWriter) -> Void) {
        if fresh == subjects { return }
        var updated: [Block] = []
        for (number, start) in stride(from: 0, to: fresh.count, by: Self.blockSize).enumerated() {
            let end = min(start + Self.blockSize, fresh.count)
            if number < blocks.count, end <= subjects.count, subjects[start..<end] == fresh[start..<end] {
                updated.append(blocks[number])
                continue
            }
            var writer = ExpositionWriter()
            render(fresh[start..<end], &writer)
            updated.append(Block(families: writer.familyTexts.map { ($0, deflater.piece($0.samples)) }))
        }
        subjects = fresh
        blocks = updated
    }

    /// The section's families in the order they first appear, each with every block's samples
    /// of it.
    var families: [(family: ExpositionWriter.FamilyText, pieces: [DeflatedPiece])] {
        var order: [String] = []
        var byName: [String: (family: ExpositionWriter.FamilyText, pieces: [DeflatedPiece])] = [:]
        for block in blocks {
            for (text, piece) in block.families {
                if byName[text.name] == nil {
                    order.append(text.name)
                    byName[text.name] = (text, [])
                }
                byName[text.name]?.pieces.append(piece)
            }
        }
        return order.compactMap { byName[$0] }
    }
}
