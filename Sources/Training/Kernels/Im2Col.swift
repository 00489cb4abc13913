import TensorCore

/// Sliding-window geometry of one convolution (NCHW image, `Conv2DAttributes`).
struct WindowGeometry {
    let height: Int, width: Int, kernelH: Int, kernelW: Int
    let strideH: Int, strideW: Int, dilationH: Int, dilationW: Int
    let padTop: Int, padLeft: Int, outHeight: Int, outWidth: Int

    init(height: Int, width: Int, attributes a: Conv2DAttributes) {
        self.height = height
        self.width = width
        (kernelH, kernelW) = (a.kernel[0], a.kernel[1])
        (strideH, strideW) = (a.strides[0], a.strides[1])
        (dilationH, dilationW) = (a.dilations[0], a.dilations[1])
        (padTop, padLeft) = (a.pads[0], a.pads[1])
        outHeight = (height + a.pads[0] + a.pads[2] - (kernelH - 1) * dilationH - 1) / strideH + 1
        outWidth = (width + a.pads[1] + a.pads[3] - (kernelW - 1) * dilationW - 1) / strideW + 1
    }

    /// Output positions per image.
    var outPlane: Int { outHeight * outWidth }
}

/// Unfolds a C×H×W image into a (C·kh·kw)×(OH·OW) row-major matrix: row `(c·kh + i)·kw + j`,
/// column `oh·OW + ow` holds `x[c, oh·sh − pt + i·dh, ow·sw − pl + j·dw]` (0 when padded).
func im2colForward(_ x: UnsafePointer<Float>, channels: Int, _ g: WindowGeometry, into cols: UnsafeMutablePointer<Float>) {
    let plane = g.height * g.width, p = g.outPlane
    var row = 0
    for c in 0..<channels {
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let dst = cols + row * p
                for oh in 0..<g.outHeight {
                    let ih = oh * g.strideH - g.padTop + i * g.dilationH
                    let line = dst + oh * g.outWidth
                    guard ih >= 0, ih < g.height else { line.update(repeating: 0, count: g.outWidth); continue }
                    let src = x + c * plane + ih * g.width
                    for ow in 0..<g.outWidth {
                        let iw = ow * g.strideW - g.padLeft + j * g.dilationW
                        line[ow] = iw >= 0 && iw < g.width ? src[iw] : 0
                    }
                }
                row += 1
            }
        }
    }
}

/// The adjoint of `im2colForward`: adds every entry of the (C·kh·kw)×(OH·OW) matrix `cols`
/// back onto the C×H×W image cell it was read from (padded cells are dropped).
func col2imAccumulate(_ cols: UnsafePointer<Float>, channels: Int, _ g: WindowGeometry, into x: UnsafeMutablePointer<Float>) {
    let plane = g.height * g.width, p = g.outPlane
    var row = 0
    for c in 0..<channels {
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let src = cols + row * p
                for oh in 0..<g.outHeight {
                    let ih = oh * g.strideH - g.padTop + i * g.dilationH
                    guard ih >= 0, ih < g.height else { continue }
                    let dst = x + c * plane + ih * g.width, line = src + oh * g.outWidth
                    for ow in 0..<g.outWidth {
                        let iw = ow * g.strideW - g.padLeft + j * g.dilationW
                        if iw >= 0 && iw < g.width { dst[iw] += line[ow] }
                    }
                }
                row += 1
            }
        }
    }
}
