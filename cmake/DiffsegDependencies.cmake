# Every dependency comes from Debian 12 packages (see packaging/install-deps.sh). With
# DIFFSEG_BUILD_GUI=OFF only the engine's dependencies are needed, so the CLI also builds on a GPU
# server against a CUDA LibTorch 2.x (pass -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;
# print(torch.utils.cmake_prefix_path)')).

find_package(Torch REQUIRED)
set(DIFFSEG_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda OR TARGET c10_cuda OR CUDA_FOUND)
  set(DIFFSEG_TORCH_HAS_CUDA ON)
endif()
if(NOT Torch_VERSION)
  set(Torch_VERSION "unknown")
endif()

find_package(ITK 5.2 REQUIRED COMPONENTS ITKCommon ITKIOImageBase ITKIONIFTI ITKIONRRD ITKIOMeta
  ITKIOGDCM ITKImageGrid ITKImageIntensity ITKImageFunction ITKTransform ITKDistanceMap
  ITKImageLabel ITKThresholding ITKLabelMap ITKSmoothing)
find_package(OpenCV 4 REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)

# ITK 5.2's library names carry no include directories; expose them as one SYSTEM interface target
# instead of the directory-scoped ITK_USE_FILE (IO factories are registered explicitly in core/io).
add_library(diffseg_itk INTERFACE)
target_include_directories(diffseg_itk SYSTEM INTERFACE ${ITK_INCLUDE_DIRS})
target_link_libraries(diffseg_itk INTERFACE ${ITK_LIBRARIES})

if(DIFFSEG_BUILD_GUI)
  find_package(Qt6 6.4 REQUIRED COMPONENTS Core Gui Widgets OpenGL OpenGLWidgets Concurrent Charts
    PrintSupport Test)
  # Never list VTK's Qt-based modules (GUI support, Qt rendering, Qt views): Debian builds them
  # against Qt5, which would load Qt5 into our Qt6 process.
  find_package(VTK 9.1 REQUIRED COMPONENTS CommonCore CommonDataModel CommonExecutionModel
    CommonMath CommonTransforms RenderingCore RenderingOpenGL2 RenderingVolume
    RenderingVolumeOpenGL2 RenderingAnnotation RenderingFreeType FiltersCore FiltersGeneral
    FiltersSources FiltersModeling InteractionStyle InteractionWidgets RenderingUI ImagingCore
    ImagingGeneral ImagingMath IOImage)
  set(DIFFSEG_VTK_MODULES VTK::CommonCore VTK::CommonDataModel VTK::CommonExecutionModel
    VTK::CommonMath VTK::CommonTransforms VTK::RenderingCore VTK::RenderingOpenGL2
    VTK::RenderingVolume VTK::RenderingVolumeOpenGL2 VTK::RenderingAnnotation
    VTK::RenderingFreeType VTK::FiltersCore VTK::FiltersGeneral VTK::FiltersSources
    VTK::FiltersModeling VTK::InteractionStyle VTK::InteractionWidgets VTK::RenderingUI
    VTK::ImagingCore VTK::ImagingGeneral VTK::ImagingMath VTK::IOImage)
else()
  # QtGui only for the tests that write or compare images (QImage); no widgets, no display.
  find_package(Qt6 6.4 QUIET COMPONENTS Core Gui Test)
endif()

# Clang builds (the libFuzzer targets): Debian's ITK headers only recognise GCC; see the header.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(diffseg_itk INTERFACE
    "$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${PROJECT_SOURCE_DIR}/cmake/itk-clang-compat.h>")
endif()
