//! What a logged-in user can do besides uploading: who is logged in, their images and albums,
//! albums made and filled (anonymous ones by deletehash), and deleting several uploads at once.
//! Every request goes through the governor like an upload does.

use super::{ServiceError, UploadService};
use crate::auth::{Account, AuthError, AuthSession};
use crate::governor::RequestCost;
use crate::history::HistoryEntry;
use std::sync::Arc;
use upshot_imgur::{Album, AlbumCreated, AlbumImages, Auth, Image, NewAlbum};

/// The outcome of deleting one of several uploads.
#[derive(Debug)]
pub struct Deleted {
    /// What was asked for (an Imgur id or a history id).
    pub asked: String,
    /// The entry as it is now (marked deleted; `None` for an account image the history did not
    /// know), or why it could not be deleted.
    pub result: Result<Option<HistoryEntry>, ServiceError>,
}

impl UploadService {
    /// The login, when this service was opened with one.
    pub fn auth(&self) -> Option<&Arc<AuthSession>> {
        self.auth.as_ref()
    }

    fn session(&self) -> Result<&Arc<AuthSession>, ServiceError> {
        self.auth
            .as_ref()
            .ok_or(ServiceError::Auth(AuthError::NotLoggedIn))
    }

    /// The account uploads go to by default (`None`: anonymous).
    pub async fn upload_account(&self) -> Result<Option<String>, ServiceError> {
        match &self.auth {
            Some(session) => Ok(session.active_username().await?),
            None => Ok(None),
        }
    }

    /// Who is logged in, as Upshot knows it (no request).
    pub async fn whoami(&self) -> Result<Option<Account>, ServiceError> {
        match &self.auth {
            Some(session) => Ok(session.account().await?),
            None => Ok(None),
        }
    }

    /// Asks Imgur who the token belongs to (`/3/account/me`): proves the login works.
    pub async fn verify_login(&self) -> Result<upshot_imgur::Account, ServiceError> {
        let auth = self.bearer().await?;
        self.spend(RequestCost::CALL).await?;
        let response = self.client.account_me(&auth).await;
        self.observe(&response).await;
        Ok(response?.data)
    }

    /// One page (from 0) of the account's images, newest first.
    pub async fn my_images(&self, page: u32) -> Result<Vec<Image>, ServiceError> {
        let auth = self.bearer().await?;
        self.spend(RequestCost::CALL).await?;
        let response = self.client.account_images(&auth, page, 100).await;
        self.observe(&response).await;
        Ok(response?.data)
    }

    /// The account's albums (first page).
    pub async fn albums(&self) -> Result<Vec<Album>, ServiceError> {
        let auth = self.bearer().await?;
        self.spend(RequestCost::CALL).await?;
        let response = self.client.account_albums(&auth, 0).await;
        self.observe(&response).await;
        Ok(response?.data)
    }

    /// Creates an album holding `images` (Imgur ids, or history ids). Logged in, it belongs to
    /// the account (images by id); anonymous, the images are given by their deletehashes from
    /// the history, and the album's own deletehash is what later changes it.
    pub async fn create_album(
        &self,
        title: Option<String>,
        description: Option<String>,
        images: &[String],
        anonymous: bool,
    ) -> Result<AlbumCreated, ServiceError> {
        let (auth, images) = self.album_images(images, anonymous).await?;
        let album = NewAlbum {
            title,
            description,
            cover: None,
            images: (!images_empty(&images)).then_some(images),
        };
        self.spend(RequestCost::CALL).await?;
        let response = self.client.create_album(&auth, &album).await;
        self.observe(&response).await;
        Ok(response?.data)
    }

    /// Adds `images` to `album` (its id when logged in, its deletehash when anonymous).
    pub async fn add_to_album(
        &self,
        album: &str,
        images: &[String],
        anonymous: bool,
    ) -> Result<(), ServiceError> {
        let (auth, images) = self.album_images(images, anonymous).await?;
        self.spend(RequestCost::CALL).await?;
        let response = self.client.add_to_album(&auth, album, &images).await;
        self.observe(&response).await;
        response?;
        Ok(())
    }

    /// Deletes each of `ids` (Imgur ids or history ids) on Imgur and marks it deleted in the
    /// history; one failing does not stop the others, and one already deleted costs nothing.
    /// An id the history does not know is deleted as the logged-in account's image (`None` in
    /// the outcome's entry: there is no history row to show).
    pub async fn delete_uploads(&self, ids: &[String]) -> Vec<Deleted> {
        let mut outcomes = Vec::with_capacity(ids.len());
        for asked in ids {
            let result = match self.find_upload(asked).await {
                Ok(entry) if entry.deleted_at.is_some() => Ok(Some(entry)),
                Ok(entry) => self.delete_upload(&entry).await.map(Some),
                Err(ServiceError::NotFound(message)) => match self.upload_account().await {
                    Ok(Some(_)) => self.delete_account_image(asked).await.map(|()| None),
                    Ok(None) => Err(ServiceError::NotFound(message)),
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            };
            outcomes.push(Deleted {
                asked: asked.clone(),
                result,
            });
        }
        outcomes
    }

    /// Deletes an image of the logged-in account by its Imgur id (one not in the history).
    pub async fn delete_account_image(&self, id: &str) -> Result<(), ServiceError> {
        let auth = self.bearer().await?;
        self.spend(RequestCost::CALL).await?;
        let response = self.client.delete_image(&auth, id).await;
        self.observe(&response).await;
        response?;
        Ok(())
    }

    /// The logged-in account's token, for calls made as the account.
    pub(super) async fn bearer(&self) -> Result<Auth, ServiceError> {
        let (_, token) = self.session()?.bearer().await?;
        Ok(Auth::bearer(token))
    }

    /// How to name `images` to an album call: ids with the account's token, or deletehashes
    /// (from the history) anonymously.
    async fn album_images(
        &self,
        images: &[String],
        anonymous: bool,
    ) -> Result<(Auth, AlbumImages), ServiceError> {
        let logged_in = !anonymous && self.upload_account().await?.is_some();
        if logged_in {
            let mut ids = Vec::with_capacity(images.len());
            for image in images {
                // A history id becomes its Imgur id; an unknown name is taken as an Imgur id.
                match self.find_upload(image).await {
                    Ok(entry) => ids.push(entry.imgur_id),
                    Err(ServiceError::NotFound(_)) => ids.push(image.clone()),
                    Err(error) => return Err(error),
                }
            }
            return Ok((self.bearer().await?, AlbumImages::Ids(ids)));
        }
        let mut hashes = Vec::with_capacity(images.len());
        for image in images {
            let entry = self.find_upload(image).await?;
            let hash = entry.deletehash.ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "{image} has no deletehash in the history, so an anonymous album cannot take it; log in to use account albums"
                ))
            })?;
            hashes.push(hash);
        }
        Ok((
            Auth::client_id(self.client_id.clone()),
            AlbumImages::DeleteHashes(hashes),
        ))
    }
}

fn images_empty(images: &AlbumImages) -> bool {
    match images {
        AlbumImages::Ids(ids) => ids.is_empty(),
        AlbumImages::DeleteHashes(hashes) => hashes.is_empty(),
    }
}
