// The spatial-level transforms of albumentations 1.3.1: the image and the mask move together
// (same random parameters, same geometry); the mask is always resampled nearest-neighbour and
// filled with 0 or 1, so it stays binary.

#include "AugmentationOps.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::core::augmentation {

namespace {

constexpr double kPi = 3.14159265358979323846;

cv::Scalar toScalar(const FillColor& color)
{
    // One value fills every channel (cv2 itself would fill only the first one from a Python
    // number, which no configuration means).
    if (color.size() >= 3) {
        return {color[0], color[1], color[2]};
    }
    const double v = color.empty() ? 0.0 : color[0];
    return cv::Scalar::all(v);
}

void warpPair(cv::Mat& image, cv::Mat& mask, const cv::Mat& matrix, int interpolation,
              int borderMode, const cv::Scalar& value, int maskValue)
{
    cv::Mat outImage;
    cv::warpAffine(image, outImage, matrix, image.size(), interpolation, borderMode, value);
    cv::Mat outMask;
    cv::warpAffine(mask, outMask, matrix, mask.size(), cv::INTER_NEAREST, borderMode,
                   cv::Scalar::all(maskValue));
    image = outImage;
    mask = outMask;
}

void remapPair(cv::Mat& image, cv::Mat& mask, const cv::Mat& mapX, const cv::Mat& mapY,
               int interpolation, int borderMode, const cv::Scalar& value, int maskValue)
{
    cv::Mat outImage;
    cv::remap(image, outImage, mapX, mapY, interpolation, borderMode, value);
    cv::Mat outMask;
    cv::remap(mask, outMask, mapX, mapY, cv::INTER_NEAREST, borderMode, cv::Scalar::all(maskValue));
    image = outImage;
    mask = outMask;
}

/// skimage.transform.AffineTransform(scale, rotation, shear, translation).params (skimage 0.19,
/// the version albumentations 1.3.1 ran with).
cv::Matx33d skimageAffine(double sx, double sy, double rotation, double shear, double tx, double ty)
{
    return {sx * std::cos(rotation),
            -sy * std::sin(rotation + shear),
            tx,
            sx * std::sin(rotation),
            sy * std::cos(rotation + shear),
            ty,
            0.0,
            0.0,
            1.0};
}

cv::Matx33d translation(double tx, double ty)
{
    return {1.0, 0.0, tx, 0.0, 1.0, ty, 0.0, 0.0, 1.0};
}

/// numpy.linspace(start, stop, count) in float32, the last value exactly `stop`.
void linspace(float* out, double start, double stop, int count)
{
    if (count <= 0) {
        return;
    }
    if (count == 1) {
        out[0] = static_cast<float>(start);
        return;
    }
    const double step = (stop - start) / (count - 1);
    for (int i = 0; i < count - 1; ++i) {
        out[i] = static_cast<float>(start + i * step);
    }
    out[count - 1] = static_cast<float>(stop);
}

/// scipy.ndimage.gaussian_filter (truncate 4.0) of a float64 field; no-op for sigma <= 1e-15.
void gaussianFilter(cv::Mat& m, double sigma, int borderMode)
{
    if (!(sigma > 1e-15)) {
        return;
    }
    const int radius = static_cast<int>(4.0 * sigma + 0.5);
    cv::Mat out;
    cv::GaussianBlur(m, out, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, borderMode);
    m = out;
}

void flipPair(cv::Mat& image, cv::Mat& mask, int code)
{
    cv::Mat outImage;
    cv::Mat outMask;
    cv::flip(image, outImage, code);
    cv::flip(mask, outMask, code);
    image = outImage;
    mask = outMask;
}

} // namespace

void applyOp(const AffineParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    const double w = image.cols;
    const double h = image.rows;
    double tx = 0.0;
    double ty = 0.0;
    if (p.translateInPixels) {
        tx = static_cast<double>(rng.uniformInt(static_cast<std::int64_t>(p.translateX.lo),
                                                static_cast<std::int64_t>(p.translateX.hi)));
        ty = static_cast<double>(rng.uniformInt(static_cast<std::int64_t>(p.translateY.lo),
                                                static_cast<std::int64_t>(p.translateY.hi)));
    } else {
        tx = rng.uniform(p.translateX.lo, p.translateX.hi) * w;
        ty = rng.uniform(p.translateY.lo, p.translateY.hi) * h;
    }
    // The reference negates shear and rotation (albumentations issue 1079).
    const double shearX = -rng.uniform(p.shearX.lo, p.shearX.hi);
    const double shearY = -rng.uniform(p.shearY.lo, p.shearY.hi);
    const double scaleX = rng.uniform(p.scaleX.lo, p.scaleX.hi);
    double scaleY = rng.uniform(p.scaleY.lo, p.scaleY.hi);
    if (p.keepRatio) {
        scaleY = scaleX;
    }
    const double rotate = -rng.uniform(p.rotate.lo, p.rotate.hi);

    // Around the pixel-centre middle of the image; y-shear is an x-shear between two quarter
    // turns, as in the reference.
    const double cx = w / 2.0 - 0.5;
    const double cy = h / 2.0 - 0.5;
    const double deg = kPi / 180.0;
    const cv::Matx33d toTopLeft = translation(-cx, -cy);
    const cv::Matx33d quarter = skimageAffine(1, 1, -kPi / 2, 0, 0, 0);
    const cv::Matx33d shearYMatrix = skimageAffine(1, 1, 0, shearY * deg, 0, 0);
    const cv::Matx33d quarterBack = skimageAffine(1, 1, kPi / 2, 0, 0, 0);
    const cv::Matx33d main = skimageAffine(scaleX, scaleY, rotate * deg, shearX * deg, tx, ty);
    const cv::Matx33d toCentre = translation(cx, cy);
    const cv::Matx33d m = toCentre * main * quarterBack * shearYMatrix * quarter * toTopLeft;

    bool identity = true;
    for (int i = 0; i < 3 && identity; ++i) {
        for (int j = 0; j < 3; ++j) {
            // numpy.allclose(m, eye(3)): |a - b| <= 1e-8 + 1e-5 * |b|
            const double target = i == j ? 1.0 : 0.0;
            if (std::abs(m(i, j) - target) > 1e-8 + 1e-5 * std::abs(target)) {
                identity = false;
                break;
            }
        }
    }
    if (identity) {
        return;
    }
    const cv::Mat affine =
        (cv::Mat_<double>(2, 3) << m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2));
    warpPair(image, mask, affine, p.interpolation, p.borderMode, toScalar(p.cval), p.cvalMask);
}

void applyOp(const CoarseDropoutParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    const int h = image.rows;
    const int w = image.cols;
    const auto holes = static_cast<int>(rng.uniformInt(p.minHoles, p.maxHoles));
    const cv::Scalar fill = toScalar(p.fill);
    cv::Mat outImage = image.clone();
    cv::Mat outMask = p.maskFill >= 0 ? mask.clone() : mask;
    for (int i = 0; i < holes; ++i) {
        int holeH = 0;
        int holeW = 0;
        if (p.fractional) {
            holeH = static_cast<int>(h * rng.uniform(p.minHeight, p.maxHeight));
            holeW = static_cast<int>(w * rng.uniform(p.minWidth, p.maxWidth));
        } else {
            holeH = static_cast<int>(rng.uniformInt(static_cast<std::int64_t>(p.minHeight),
                                                    static_cast<std::int64_t>(p.maxHeight)));
            holeW = static_cast<int>(rng.uniformInt(static_cast<std::int64_t>(p.minWidth),
                                                    static_cast<std::int64_t>(p.maxWidth)));
        }
        // A hole larger than the image covers it (the reference would fail to place it).
        holeH = std::min(holeH, h);
        holeW = std::min(holeW, w);
        const auto y1 = static_cast<int>(rng.uniformInt(0, h - holeH));
        const auto x1 = static_cast<int>(rng.uniformInt(0, w - holeW));
        const cv::Rect hole(x1, y1, holeW, holeH);
        outImage(hole).setTo(fill);
        if (p.maskFill >= 0) {
            outMask(hole).setTo(cv::Scalar::all(p.maskFill));
        }
    }
    image = outImage;
    mask = outMask;
}

void applyOp(const ElasticTransformParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    const int h = image.rows;
    const int w = image.cols;
    const cv::Scalar value = toScalar(p.value);

    // Random affine of three points around the centre. The reference builds the centre as
    // (rows // 2, cols // 2) and uses it as (x, y); kept, as it only matters for non-square images.
    const float c0 = static_cast<float>(h / 2);
    const float c1 = static_cast<float>(w / 2);
    const float s = static_cast<float>(std::min(h, w) / 3);
    const cv::Point2f src[3] = {{c0 + s, c1 + s}, {c0 + s, c1 - s}, {c0 - s, c1 - s}};
    cv::Point2f dst[3];
    for (int i = 0; i < 3; ++i) {
        const auto dx = static_cast<float>(rng.uniform(-p.alphaAffine, p.alphaAffine));
        const auto dy = static_cast<float>(rng.uniform(-p.alphaAffine, p.alphaAffine));
        dst[i] = src[i] + cv::Point2f(dx, dy);
    }
    if (s > 0.0f) { // below 3 pixels the three points coincide and the affine is singular
        const cv::Mat affine = cv::getAffineTransform(src, dst);
        warpPair(image, mask, affine, p.interpolation, p.borderMode, value, p.maskValue);
    }

    // Smooth random displacement fields (uniform in [-1, 1), Gaussian-smoothed, times alpha).
    auto field = [&]() {
        cv::Mat d(h, w, p.approximate ? CV_32F : CV_64F);
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                const double u = rng.uniform() * 2.0 - 1.0;
                if (p.approximate) {
                    d.at<float>(y, x) = static_cast<float>(u);
                } else {
                    d.at<double>(y, x) = u;
                }
            }
        }
        if (p.approximate) {
            cv::Mat out;
            cv::GaussianBlur(d, out, cv::Size(17, 17), p.sigma);
            d = out;
        } else {
            gaussianFilter(d, p.sigma, cv::BORDER_REFLECT); // scipy's default mode "reflect"
        }
        cv::Mat scaled;
        d.convertTo(scaled, CV_32F, p.alpha);
        return scaled;
    };
    const cv::Mat dx = field();
    const cv::Mat dy = p.sameDxDy ? dx : field();
    cv::Mat mapX(h, w, CV_32F);
    cv::Mat mapY(h, w, CV_32F);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            mapX.at<float>(y, x) = static_cast<float>(x) + dx.at<float>(y, x);
            mapY.at<float>(y, x) = static_cast<float>(y) + dy.at<float>(y, x);
        }
    }
    remapPair(image, mask, mapX, mapY, p.interpolation, p.borderMode, value, p.maskValue);
}

void applyOp(const HorizontalFlipParams&, cv::Mat& image, cv::Mat& mask, PortableRandom&)
{
    flipPair(image, mask, 1);
}

void applyOp(const VerticalFlipParams&, cv::Mat& image, cv::Mat& mask, PortableRandom&)
{
    flipPair(image, mask, 0);
}

void applyOp(const FlipParams&, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    // cv::flip codes: 0 vertical, 1 horizontal, -1 both.
    flipPair(image, mask, static_cast<int>(rng.uniformInt(-1, 1)));
}

void applyOp(const RandomRotate90Params&, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    // numpy.rot90(img, k) turns counter-clockwise. A quarter turn would swap the sides of a
    // non-square image, and the output keeps its size, so such images only get 0 or 2 turns.
    const bool square = image.rows == image.cols;
    const auto k = square ? static_cast<int>(rng.uniformInt(0, 3))
                          : 2 * static_cast<int>(rng.uniformInt(0, 1));
    if (k == 0) {
        return;
    }
    const int code = k == 1 ? cv::ROTATE_90_COUNTERCLOCKWISE
                            : (k == 2 ? cv::ROTATE_180 : cv::ROTATE_90_CLOCKWISE);
    cv::Mat outImage;
    cv::Mat outMask;
    cv::rotate(image, outImage, code);
    cv::rotate(mask, outMask, code);
    image = outImage;
    mask = outMask;
}

void applyOp(const GridDistortionParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    const int h = image.rows;
    const int w = image.cols;
    const int n = p.numSteps;
    std::vector<double> stepsX(static_cast<std::size_t>(n) + 1);
    std::vector<double> stepsY(static_cast<std::size_t>(n) + 1);
    for (double& s : stepsX) {
        s = 1.0 + rng.uniform(p.distortLimit.lo, p.distortLimit.hi);
    }
    for (double& s : stepsY) {
        s = 1.0 + rng.uniform(p.distortLimit.lo, p.distortLimit.hi);
    }
    if (w < n || h < n) {
        return; // fewer pixels than grid cells: the reference collapses the image
    }
    if (p.normalized) {
        // Rescale the steps so that the distorted grid still spans exactly the image.
        auto normalise = [n](std::vector<double>& steps, int size) {
            const int step = size / n;
            const int lastStep = std::min(size, (n + 1) * step) - n * step;
            steps.back() *= static_cast<double>(lastStep) / step;
            const double target = size / std::floor(static_cast<double>(size) / n);
            double sum = 0.0;
            for (double s : steps) {
                sum += s;
            }
            for (double& s : steps) {
                s *= target / sum;
            }
        };
        normalise(stepsX, w);
        normalise(stepsY, h);
    }
    // Piecewise-linear source coordinates per output column/row, cell by cell.
    auto axis = [n](const std::vector<double>& steps, int size) {
        std::vector<float> coords(static_cast<std::size_t>(size), 0.0f);
        const int step = size / n;
        double prev = 0.0;
        for (int idx = 0; idx <= n; ++idx) {
            const int start = idx * step;
            int end = start + step;
            double cur = 0.0;
            if (end > size) {
                end = size;
                cur = size;
            } else {
                cur = prev + step * steps[static_cast<std::size_t>(idx)];
            }
            if (end > start) {
                linspace(coords.data() + start, prev, cur, end - start);
            }
            prev = cur;
        }
        return coords;
    };
    const std::vector<float> xs = axis(stepsX, w);
    const std::vector<float> ys = axis(stepsY, h);
    cv::Mat mapX(h, w, CV_32F);
    cv::Mat mapY(h, w, CV_32F);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            mapX.at<float>(y, x) = xs[static_cast<std::size_t>(x)];
            mapY.at<float>(y, x) = ys[static_cast<std::size_t>(y)];
        }
    }
    remapPair(image, mask, mapX, mapY, p.interpolation, p.borderMode, toScalar(p.value),
              p.maskValue);
}

void applyOp(const PiecewiseAffineParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    const int h = image.rows;
    const int w = image.cols;
    const int rows = std::max(2, static_cast<int>(rng.uniformInt(p.rowsMin, p.rowsMax)));
    const int cols = std::max(2, static_cast<int>(rng.uniformInt(p.colsMin, p.colsMax)));
    const double scale = rng.uniform(p.scale.lo, p.scale.hi);
    const std::size_t cells = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    std::vector<double> jitterY(cells);
    std::vector<double> jitterX(cells);
    bool anyPositive = false;
    for (std::size_t i = 0; i < cells; ++i) {
        jitterY[i] = rng.normal(0.0, scale);
        jitterX[i] = rng.normal(0.0, scale);
        anyPositive = anyPositive || jitterY[i] > 0.0 || jitterX[i] > 0.0;
    }
    if (!anyPositive) {
        return; // the reference's "no jitter" shortcut
    }
    // Control points on a regular grid over [0, w] x [0, h] (output space) and where each one
    // samples the input (jittered, clipped into the image).
    std::vector<double> gridX(static_cast<std::size_t>(cols));
    std::vector<double> gridY(static_cast<std::size_t>(rows));
    for (int j = 0; j < cols; ++j) {
        gridX[static_cast<std::size_t>(j)] = static_cast<double>(w) * j / (cols - 1);
    }
    for (int i = 0; i < rows; ++i) {
        gridY[static_cast<std::size_t>(i)] = static_cast<double>(h) * i / (rows - 1);
    }
    std::vector<cv::Point2d> target(cells);
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            const std::size_t k = static_cast<std::size_t>(i) * static_cast<std::size_t>(cols) +
                                  static_cast<std::size_t>(j);
            double jy = jitterY[k];
            double jx = jitterX[k];
            if (p.absoluteScale) {
                jy /= h;
                jx /= w;
            }
            const double ty = gridY[static_cast<std::size_t>(i)] + jy * h;
            const double tx = gridX[static_cast<std::size_t>(j)] + jx * w;
            target[k] = {std::clamp(tx, 0.0, w - 1.0), std::clamp(ty, 0.0, h - 1.0)};
        }
    }
    // Each grid cell is split into two triangles along its top-left/bottom-right diagonal and
    // mapped affinely (barycentric interpolation of the targets).
    cv::Mat mapX(h, w, CV_32F);
    cv::Mat mapY(h, w, CV_32F);
    int cellRow = 0;
    for (int y = 0; y < h; ++y) {
        while (cellRow < rows - 2 && y >= gridY[static_cast<std::size_t>(cellRow) + 1]) {
            ++cellRow;
        }
        const double y0 = gridY[static_cast<std::size_t>(cellRow)];
        const double y1 = gridY[static_cast<std::size_t>(cellRow) + 1];
        const double v = (y - y0) / (y1 - y0);
        int cellCol = 0;
        for (int x = 0; x < w; ++x) {
            while (cellCol < cols - 2 && x >= gridX[static_cast<std::size_t>(cellCol) + 1]) {
                ++cellCol;
            }
            const double x0 = gridX[static_cast<std::size_t>(cellCol)];
            const double x1 = gridX[static_cast<std::size_t>(cellCol) + 1];
            const double u = (x - x0) / (x1 - x0);
            auto at = [&](int di, int dj) {
                return target[static_cast<std::size_t>(cellRow + di) *
                                  static_cast<std::size_t>(cols) +
                              static_cast<std::size_t>(cellCol + dj)];
            };
            const cv::Point2d a = at(0, 0);
            const cv::Point2d d = at(1, 1);
            cv::Point2d q;
            if (u >= v) { // upper-right triangle: (0,0), (0,1), (1,1)
                const cv::Point2d b = at(0, 1);
                q = a + u * (b - a) + v * (d - b);
            } else { // lower-left triangle: (0,0), (1,0), (1,1)
                const cv::Point2d c = at(1, 0);
                q = a + v * (c - a) + u * (d - c);
            }
            mapX.at<float>(y, x) = static_cast<float>(q.x);
            mapY.at<float>(y, x) = static_cast<float>(q.y);
        }
    }
    remapPair(image, mask, mapX, mapY, p.interpolation, p.borderMode, cv::Scalar::all(p.cval),
              p.cvalMask);
}

void applyOp(const PixelDropoutParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    std::array<std::uint8_t, 3> dropValue{};
    for (std::size_t c = 0; c < 3; ++c) {
        if (p.randomDropValue) {
            // numpy's randint(0, 255) excludes 255.
            dropValue[c] = static_cast<std::uint8_t>(rng.uniformInt(0, 254));
        } else {
            const double v = p.dropValue.size() >= 3 ? p.dropValue[c] : p.dropValue[0];
            dropValue[c] = cv::saturate_cast<std::uint8_t>(v);
        }
    }
    cv::Mat outImage = image.clone();
    cv::Mat outMask = p.maskDropValue >= 0 ? mask.clone() : mask;
    for (int y = 0; y < image.rows; ++y) {
        auto* dst = outImage.ptr<std::uint8_t>(y);
        auto* m = outMask.ptr<std::uint8_t>(y);
        for (int x = 0; x < image.cols; ++x) {
            if (p.perChannel) {
                for (int c = 0; c < 3; ++c) {
                    if (rng.chance(p.dropoutProb)) {
                        dst[x * 3 + c] = dropValue[static_cast<std::size_t>(c)];
                    }
                }
            } else if (rng.chance(p.dropoutProb)) {
                for (int c = 0; c < 3; ++c) {
                    dst[x * 3 + c] = dropValue[static_cast<std::size_t>(c)];
                }
                if (p.maskDropValue >= 0) {
                    m[x] = static_cast<std::uint8_t>(p.maskDropValue);
                }
            }
        }
    }
    image = outImage;
    mask = outMask;
}

void applyOp(const RotateParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng)
{
    const double angle = rng.uniform(p.limit.lo, p.limit.hi);
    // Centre at (w/2 - 0.5, h/2 - 0.5), the pixel-centre middle, as the reference.
    const cv::Point2f centre(static_cast<float>(image.cols / 2.0 - 0.5),
                             static_cast<float>(image.rows / 2.0 - 0.5));
    const cv::Mat matrix = cv::getRotationMatrix2D(centre, angle, 1.0);
    warpPair(image, mask, matrix, p.interpolation, p.borderMode, toScalar(p.value), p.maskValue);
}

} // namespace diffseg::core::augmentation
