#pragma once

#include <QHash>
#include <QOpenGLWidget>
#include <QString>

#include <vtkSmartPointer.h>

class QTimer;
class vtkGenericRenderWindowInteractor;
class vtkObject;
class vtkRenderWindow;
class vtkRenderWindowInteractor;
class vtkDiffsegRenderWindow;

namespace diffseg::widgets {

/// Shows VTK rendering in a Qt6 widget, without Debian's Qt5-built VTK Qt module.
///
/// Ownership: the widget owns a vtkGenericOpenGLRenderWindow and a
/// vtkGenericRenderWindowInteractor (trackball-camera style). Renderers and pipelines belong to
/// the caller, who adds them to renderWindow(); the widget knows nothing about them.
///
/// Rendering happens only in paintGL on the GUI thread: VTK renders into its own framebuffer,
/// which is blitted into Qt's defaultFramebufferObject(). Interaction and VTK's own render
/// requests only schedule update(). Re-parenting (dock/undock, full screen) destroys Qt's GL
/// context; the widget finalises VTK's resources then and initialises them again in the new one.
/// Sizes are in device pixels towards VTK (logical size x devicePixelRatioF()).
///
/// Threads: GUI thread only, like every QWidget and every VTK object.
class VtkRenderWidget : public QOpenGLWidget
{
    Q_OBJECT

public:
    explicit VtkRenderWidget(QWidget* parent = nullptr);
    ~VtkRenderWidget() override;

    vtkRenderWindow* renderWindow() const;
    vtkRenderWindowInteractor* interactor() const;

    /// Marks the scene dirty and schedules a repaint (coalesced by Qt).
    void requestRender();
    /// How many times a GL context was initialised (grows on re-parenting).
    int initializeCount() const { return m_initializeCount; }
    /// How many frames VTK rendered (not counting plain re-blits of an unchanged frame).
    int renderCount() const { return m_renderCount; }
    /// "vendor | renderer | version" of the current context, once initialised.
    QString glInfo() const { return m_glInfo; }
    /// True on a software rasteriser (Mesa llvmpipe/softpipe), where GPU ray casting is slow.
    bool isSoftwareRenderer() const;

Q_SIGNALS:
    /// Emitted after each (re-)initialisation of the GL context; scenes may adapt to glInfo().
    void glInitialized();
    /// Emitted when VTK could not initialise OpenGL; `reason` is meant for the user.
    void glFailed(const QString& reason);
    /// Emitted after a frame was rendered by VTK and blitted.
    void frameRendered();

protected:
    void initializeGL() override;
    void resizeGL(int w, int h) override;
    void paintGL() override;
    bool event(QEvent* e) override;

private:
    void releaseContext();
    void updateSizes();
    void onMakeCurrent();
    void onIsCurrent(void* callData);
    void onFrame();
    void onCursorChanged();
    void onCreateTimer(void* callData);
    void onDestroyTimer(void* callData);
    bool forwardMouse(QEvent* e);
    bool forwardKey(QEvent* e);
    bool forwardWheel(QEvent* e);

    vtkSmartPointer<vtkDiffsegRenderWindow> m_window;
    vtkSmartPointer<vtkGenericRenderWindowInteractor> m_interactor;
    QHash<int, QTimer*> m_timers; ///< platform timer id -> Qt timer
    int m_nextTimerId = 1;
    bool m_inPaint = false;
    bool m_dirty = true;
    bool m_contextReady = false;
    int m_initializeCount = 0;
    int m_renderCount = 0;
    double m_wheelAccumulator = 0.0;
    QString m_glInfo;
};

} // namespace diffseg::widgets
