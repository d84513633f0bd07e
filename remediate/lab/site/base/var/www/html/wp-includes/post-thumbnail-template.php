<?php
/**
 * WordPress-like lab stub for wp-includes/post-thumbnail-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'post-thumbnail-template.php';
