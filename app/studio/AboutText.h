#pragma once

#include <QString>

namespace diffseg::app {

/// Rich text for Help > About: versions of Qt, VTK, ITK, LibTorch, OpenCV, the CUDA status, and
/// the packaged models (packagedModelsText()).
QString aboutText();
/// The packaged models with the training data and licence their cards state, as HTML (a model
/// trained on ISIC data is for research and non-commercial use only); empty without models.
QString packagedModelsText();

} // namespace diffseg::app
