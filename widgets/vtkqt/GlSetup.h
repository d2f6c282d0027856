#pragma once

namespace diffseg::widgets {

/// OpenGL set-up that must happen before the QApplication exists (Slicer's pattern): a 3.2 Core
/// default surface format without multisampling (it breaks VTK's framebuffer reads), shared
/// contexts, and GLX rather than EGL on X11 (Debian's VTK 9.1 initialises GLEW through GLX only;
/// on Wayland we run through XWayland). Call it first thing in main() and in every GUI test.
void preInitializeApplication();

} // namespace diffseg::widgets
