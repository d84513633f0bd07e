<?php
/**
 * WordPress-like lab stub for wp-includes/media.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'media.php';
