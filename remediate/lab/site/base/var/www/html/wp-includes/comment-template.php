<?php
/**
 * WordPress-like lab stub for wp-includes/comment-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'comment-template.php';
