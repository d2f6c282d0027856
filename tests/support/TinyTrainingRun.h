#pragma once

// A tiny DermoSegDiff training run, shared by the tests of `diffseg train` and of the studio's
// training panel: lesion-like PNG pairs and a config that trains in a fraction of a second per
// step. Header-only (it paints with QtGui, which not every test links).

#include <QColor>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QRect>
#include <QString>

namespace diffseg::test {

/// `count` 40 x 40 lesion-like PNG pairs in dir/images and dir/masks (lesion00.png, ...): skin with
/// a dark ellipse that moves and grows a little from one pair to the next, and its mask.
inline void makeLesionPairs(const QString& dir, int count)
{
    QDir().mkpath(dir + "/images");
    QDir().mkpath(dir + "/masks");
    for (int i = 0; i < count; ++i) {
        QImage image(40, 40, QImage::Format_RGB888);
        image.fill(QColor(215, 165 + i, 150));
        QImage mask(40, 40, QImage::Format_Grayscale8);
        mask.fill(0);
        const QRect lesion(6 + i % 4 * 2, 8 + i % 3 * 2, 18 + i % 5, 16 + i % 4);
        for (QImage* target : {&image, &mask}) {
            QPainter p(target);
            p.setPen(Qt::NoPen);
            p.setBrush(target == &mask ? QColor(255, 255, 255) : QColor(80, 45, 35));
            p.drawEllipse(lesion);
        }
        const QString id = QStringLiteral("lesion%1").arg(i, 2, 10, QChar('0'));
        image.save(dir + "/images/" + id + ".png");
        mask.save(dir + "/masks/" + id + ".png");
    }
}

/// Writes at `path` the config of a tiny DermoSegDiff (dim 8, mults [1, 2], 32 x 32, T = 100,
/// 6 epochs, batches of 2, a checkpoint every 2 steps) and returns `path`. `dataset` holds the
/// lines of the dataset section after its input size (the split, a data folder), `training`
/// lines added to the training section, `extra` whole sections appended at the end.
inline QString writeTinyTrainingConfig(const QString& path, const QString& dataset,
                                       const QString& training = {}, const QString& extra = {})
{
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(QStringLiteral(R"(run: {device: "cpu"}
model:
  save_dir: "runs"
  name: "tiny"
  params: {dim_x: 8, dim_g: 8, dim_x_mults: [1, 2], dim_g_mults: [1, 2], resnet_block_groups: 4}
diffusion:
  schedule: {timesteps: 100}
dataset:
  input_size: 32
)")
                .toUtf8() +
            dataset.toUtf8() +
            QStringLiteral(R"(data_loader:
  train: {batch_size: 2, shuffle: true}
  validation: {batch_size: 4}
training:
  epochs: 6
  checkpoint_every_steps: 2
  loss:
    l2: {cofficient: 1.0}
    boundary: {cofficient: 0.25, params: {gamma: 0.25}}
  optimizer: {name: "Adam", params: {lr: 0.001}}
  ema: {use: true, params: {update_after_step: 4}}
)")
                .toUtf8() +
            training.toUtf8() +
            QStringLiteral(R"(augmentation:
  p: 0.8
  levels:
    spacial: {p: 1, transforms: {HorizontalFlip: {p: 0.5}, RandomRotate90: {p: 0.5}}}
)")
                .toUtf8() +
            extra.toUtf8());
    return path;
}

} // namespace diffseg::test
