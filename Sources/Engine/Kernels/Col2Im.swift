import TensorCore

/// The adjoint of Engine's `im2col`: adds every entry of the (C·kh·kw)×(OH·OW) matrix `cols`
/// back onto the C×H×W image cell it was read from (padded cells are dropped).
public func col2imAccumulate(_ cols: UnsafePointer<Float>, channels: Int, _ g: ConvGeometry, into x: UnsafeMutablePointer<Float>) {
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
