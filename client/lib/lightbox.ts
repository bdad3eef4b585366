/** The larger view of an image: a modal <dialog>; Escape, the close button or a click anywhere closes it. */
export function createLightbox(dialog: HTMLDialogElement, image: HTMLImageElement) {
  dialog.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => image.removeAttribute('src'));
  const open = (url: string, alt: string) => {
    image.src = url;
    image.alt = alt;
    if (!dialog.open) dialog.showModal();
  };
  return { open };
}
