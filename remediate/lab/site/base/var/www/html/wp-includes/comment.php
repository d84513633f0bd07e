<?php
/**
 * WordPress-like lab stub for wp-includes/comment.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'comment.php';
