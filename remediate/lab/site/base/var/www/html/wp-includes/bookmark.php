<?php
/**
 * WordPress-like lab stub for wp-includes/bookmark.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'bookmark.php';
