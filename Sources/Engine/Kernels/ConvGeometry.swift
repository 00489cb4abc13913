import TensorCore

/// The sliding-window geometry of a 2-D convolution or pooling: input size, kernel, stride,
/// dilation, padding and the resulting output size.
public struct ConvGeometry: Sendable {
    public let height: Int, width: Int
    public let kernelH: Int, kernelW: Int
    public let strideH: Int, strideW: Int
    public let dilationH: Int, dilationW: Int
    public let padTop: Int, padLeft: Int
    public let outHeight: Int, outWidth: Int

    /// Output positions per image (OH·OW).
    public var outPlane: Int { outHeight * outWidth }

    init(height: Int, width: Int, kernel: Size2D, strides: Size2D, dilations: Size2D = .one, pads: Padding2D) {
        self.height = height
        self.width = width
        (kernelH, kernelW) = (kernel.height, kernel.width)
        (strideH, strideW) = (strides.height, strides.width)
        (dilationH, dilationW) = (dilations.height, dilations.width)
        (padTop, padLeft) = (pads.top, pads.left)
        outHeight = (height + pads.vertical - (kernel.height - 1) * dilations.height - 1) / strides.height + 1
        outWidth = (width + pads.horizontal - (kernel.width - 1) * dilations.width - 1) / strides.width + 1
    }

    /// The geometry of a convolution with attributes `a` over an H×W image.
    public init(height: Int, width: Int, attributes a: Conv2DAttributes) {
        self.init(height: height, width: width, kernel: a.kernel, strides: a.strides, dilations: a.dilations, pads: a.pads)
    }

    /// The output columns `ow` whose input column `ow·sw − pl + offset` lies inside the image.
    @inline(__always)
    func validColumns(offset: Int) -> Range<Int> {
        let lo = max(0, ceilDiv(padLeft - offset, strideW))
        let hi = min(outWidth, ceilDiv(width + padLeft - offset, strideW))
        return lo..<max(lo, hi)
    }

    /// The output rows `oh` whose input row `oh·sh − pt + offset` lies inside the image.
    @inline(__always)
    func validRows(offset: Int) -> Range<Int> {
        let lo = max(0, ceilDiv(padTop - offset, strideH))
        let hi = min(outHeight, ceilDiv(height + padTop - offset, strideH))
        return lo..<max(lo, hi)
    }
}

/// `ceil(a / b)` for `b > 0` and any sign of `a`.
@inline(__always)
func ceilDiv(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? (a + b - 1) / b : -((-a) / b)
}

/// Unfolds one C×H×W image into a (C·kh·kw)×(OH·OW) matrix, row `(c·kh + i)·kw + j`,
/// column `oh·OW + ow`; rows start `rowStride` elements apart (so several images can share
/// one matrix side by side). Padded cells are zero.
public func im2col(
    _ x: UnsafePointer<Float>, channels: Int, geometry g: ConvGeometry,
    into cols: UnsafeMutablePointer<Float>, rowStride: Int
) {
    let plane = g.height * g.width
    var row = 0
    for c in 0..<channels {
        let image = x + c * plane
        for i in 0..<g.kernelH {
            let rowOffset = i * g.dilationH
            let rows = g.validRows(offset: rowOffset)
            for j in 0..<g.kernelW {
                let colOffset = j * g.dilationW
                let columns = g.validColumns(offset: colOffset)
                let dst = cols + row * rowStride
                for oh in 0..<g.outHeight {
                    let line = dst + oh * g.outWidth
                    guard rows.contains(oh) else {
                        line.update(repeating: 0, count: g.outWidth)
                        continue
                    }
                    let src = image + (oh * g.strideH - g.padTop + rowOffset) * g.width - g.padLeft + colOffset
                    if columns.lowerBound > 0 { line.update(repeating: 0, count: columns.lowerBound) }
                    if g.strideW == 1 {
                        (line + columns.lowerBound).update(from: src + columns.lowerBound, count: columns.count)
                    } else {
                        for ow in columns { line[ow] = src[ow * g.strideW] }
                    }
                    if columns.upperBound < g.outWidth {
                        (line + columns.upperBound).update(repeating: 0, count: g.outWidth - columns.upperBound)
                    }
                }
                row += 1
            }
        }
    }
}
