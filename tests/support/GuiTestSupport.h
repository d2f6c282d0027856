#pragma once

// Shared by the widget and studio tests: their main(), the skip without an OpenGL display, mouse
// drags and fresh frames of a VTK view. Header-only: only the GUI tests include it.

#include "vtkqt/GlSetup.h"

#include <QApplication>
#include <QGuiApplication>
#include <QImage>
#include <QList>
#include <QMouseEvent>
#include <QPoint>
#include <QtTest>

#include <memory>

namespace diffseg::test {

/// Presses `button` at points.first(), moves through every point, releases at points.last().
inline void drag(QWidget* widget, Qt::MouseButton button, const QList<QPoint>& points,
                 Qt::KeyboardModifiers modifiers = Qt::NoModifier)
{
    QTest::mousePress(widget, button, modifiers, points.first());
    for (const QPoint& p : points) {
        QMouseEvent move(QEvent::MouseMove, p, widget->mapToGlobal(QPointF(p)), Qt::NoButton,
                         button, modifiers);
        QApplication::sendEvent(widget, &move);
    }
    QTest::mouseRelease(widget, button, modifiers, points.last());
}

/// Shows `view` (an image or slice view), waits until it is exposed and fits its image to it;
/// nullptr when it was not exposed.
template <class View>
std::unique_ptr<View> showFitted(std::unique_ptr<View> view)
{
    view->show();
    if (!QTest::qWaitForWindowExposed(view.get())) {
        return nullptr;
    }
    view->fitToWindow();
    return view;
}

/// Has `view` (a widgets::VtkRenderWidget) render once more and returns that frame; a null image
/// when no frame came within a minute. A template so that this header needs no VTK.
template <class RenderWidget>
QImage renderedFrame(RenderWidget* view)
{
    const int before = view->renderCount();
    view->requestRender();
    if (!QTest::qWaitFor([&] { return view->renderCount() > before; }, 60000)) {
        return {};
    }
    return view->grabFramebuffer();
}

} // namespace diffseg::test

/// Skips the test case, saying `why`, unless the platform can show OpenGL views (xvfb-run gives
/// one, the offscreen and minimal platforms do not).
#define DIFFSEG_SKIP_WITHOUT_GL_DISPLAY(why)                                                       \
    do {                                                                                           \
        const QString platform = QGuiApplication::platformName();                                  \
        if (platform == QLatin1String("offscreen") || platform == QLatin1String("minimal")) {      \
            QSKIP(why);                                                                            \
        }                                                                                          \
    } while (false)

/// main() of a GUI test of class `TestClass`: the OpenGL set-up has to come before the
/// QApplication exists, which QTEST_MAIN cannot do.
#define DIFFSEG_GUI_TEST_MAIN(TestClass)                                                           \
    int main(int argc, char** argv)                                                                \
    {                                                                                              \
        diffseg::widgets::preInitializeApplication();                                              \
        QApplication app(argc, argv);                                                              \
        TestClass test;                                                                            \
        return QTest::qExec(&test, argc, argv);                                                    \
    }
