# CPack: one Debian package, diffseg-studio, with both executables (diffseg-studio, diffseg), the
# resources (training configurations and demo checkpoints in share/diffseg-studio), the desktop
# entry, the icon and the AppStream metadata. Build it from a configured and built folder:
#   cmake --build build/release --target package      (or: cd build/release && cpack)
# and install it with `sudo apt install ./diffseg-studio_<version>_amd64.deb`.
#
# Dependencies: dpkg-shlibdeps reads the binaries and lists the Debian 12 packages of every shared
# library they link (Qt6, VTK 9.1, ITK 5.2, OpenCV 4.6, LibTorch 1.13, yaml-cpp, libc, ...). Our own
# libraries are static, so nothing else is needed at run time except what is loaded without
# being linked, listed below: Qt's platform plugins (xcb), and the OpenGL drivers. An optimised
# BLAS is recommended: Debian's reference BLAS makes LibTorch several times slower.
set(CPACK_PACKAGE_NAME "diffseg-studio")
set(CPACK_PACKAGE_VENDOR "DiffSeg Studio")
set(CPACK_PACKAGE_CONTACT "DiffSeg Studio developers <dev@diffseg.invalid>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Diffusion-model segmentation of dermoscopy images and CT/MRI volumes")
set(CPACK_PACKAGE_DESCRIPTION "DiffSeg Studio segments skin lesions in dermoscopy photos (2D RGB)
and structures in CT/MRI volumes (3D) with diffusion models: DermoSegDiff and Diff-UNet, in
C++ with LibTorch. The desktop application shows the reverse-diffusion steps, ensemble
uncertainty maps and metrics against ground truth, edits masks, and trains models in the
background. The diffseg command-line tool segments, trains and evaluates headless.
Procedural demo data and small demo models are included.
This is a research tool, not a medical device.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "diffseg-studio")
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp | libopenblas0, libgl1-mesa-dri")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "xvfb")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
